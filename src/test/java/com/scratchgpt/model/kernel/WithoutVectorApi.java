package com.scratchgpt.model.kernel;

import java.nio.FloatBuffer;

/**
 * Run by {@link KernelAvailabilityTest} in a JVM started without {@code --add-modules jdk.incubator.vector}:
 * prints whether the kernels are available and what asking for each format gives.
 */
public final class WithoutVectorApi {

    private WithoutVectorApi() {
    }

    public static void main(String[] args) {
        System.out.println("available: " + WeightMatrix.kernelsAvailable());
        for (WeightFormat format : WeightFormat.values()) {
            try {
                WeightMatrix.of(format, FloatBuffer.allocate(32), 1, 32);
                System.out.println(format + ": built");
            } catch (IllegalStateException e) {
                System.out.println(format + ": " + e.getMessage());
            }
        }
    }
}
