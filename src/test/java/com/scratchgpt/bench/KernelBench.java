package com.scratchgpt.bench;

import static com.scratchgpt.bench.Bench.line;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;


import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.Linear;
import com.scratchgpt.model.Tensor;
import com.scratchgpt.model.kernel.Q8ActivationComparison;
import com.scratchgpt.model.kernel.WeightFormat;
import com.scratchgpt.model.kernel.WeightMatrix;

/**
 * Every weight-matrix product of one GPT-2 small decode step (the 48 block matrices and the output
 * head, 494 MB in float32), for 1 to 32 activation rows: float32 through OpenBLAS as {@link Linear}
 * serves decoding rows (matrix-vector products, row by row), and the Vector API kernels of each weight
 * format. Each time stands beside the two
 * ceilings of the same run: the format's bytes over the measured read bandwidth, and the FLOPs over the
 * measured GEMM peak. Random weights: the time does not depend on the values.
 *
 * <p>Run alone with {@code ./mvnw -Pbench verify -Dbench.args=--kernels}.
 */
final class KernelBench {

    private static final int[] ROWS = {1, 2, 4, 8, 16, 32};

    private KernelBench() {
    }

    /** (out, in) of every product of a decode step: per block qkv, out_proj, fc1, fc2; then the head. */
    static List<int[]> decodeStepShapes(GPTConfig cfg) {
        int e = cfg.embDim();
        List<int[]> shapes = new ArrayList<>();
        for (int l = 0; l < cfg.nLayers(); l++) {
            shapes.add(new int[] {3 * e, e});
            shapes.add(new int[] {e, e});
            shapes.add(new int[] {4 * e, e});
            shapes.add(new int[] {e, 4 * e});
        }
        shapes.add(new int[] {cfg.vocabSize(), e});
        return shapes;
    }

    static void productsByFormat(GPTConfig cfg, int reps, double bandwidth, double gemmPeak) throws IOException {
        line("");
        line("Weight kernels (model/kernel): %s; CPU flags %s", WeightMatrix.kernelDescription(), cpuFlags());
        line("");
        line("q8_0's one-row product with float32 activations (Q8_0Matrix) and with activations quantised to int8 per"
                + " block (ggml's Q8_0 x Q8_0), 12 matrices (3072, 768), one thread, best of %d:", reps);
        line("");
        Q8ActivationComparison.compare(12, 3072, 768, reps).forEach(l -> line("%s", l));
        line("");
        List<int[]> shapes = decodeStepShapes(cfg);
        List<Linear> blas = new ArrayList<>();
        List<WeightMatrix> f32 = new ArrayList<>();
        List<WeightMatrix> bf16 = new ArrayList<>();
        List<WeightMatrix> q80 = new ArrayList<>();
        long weights = 0;
        for (int[] s : shapes) {
            Tensor w = gaussian(s[0], s[1], 0.02f);
            ByteBuffer bytes = w.array().data().asNio();
            blas.add(new Linear(w, null));
            f32.add(WeightMatrix.f32(bytes, s[0], s[1]));
            bf16.add(WeightMatrix.of(WeightFormat.BF16, w.buffer(), s[0], s[1]));
            q80.add(WeightMatrix.of(WeightFormat.Q8_0, w.buffer(), s[0], s[1]));
            weights += (long) s[0] * s[1];
        }
        int maxIn = shapes.stream().mapToInt(s -> s[1]).max().orElseThrow();
        int maxOut = shapes.stream().mapToInt(s -> s[0]).max().orElseThrow();
        int maxRows = ROWS[ROWS.length - 1];
        Tensor x = gaussian(maxRows, maxIn, 1f);
        Tensor y = Tensor.zeros(maxRows, maxOut);
        double flopsPerRow = 2.0 * weights;
        line("%d products, %.1f M weights: %.0f MB as f32, %.0f MB as bf16, %.0f MB as q8_0; best of %d after a warm-up;"
                + " repetitions interleaved, spread = median / best", shapes.size(), weights / 1e6, bytes(f32) / 1e6, bytes(bf16) / 1e6,
                bytes(q80) / 1e6, reps);
        line("");
        line("| rows | product | time | bandwidth ceiling | GEMM-peak ceiling | of the ceiling | rows/s | x one f32 BLAS row | spread |");
        line("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        String[] names = {"f32 OpenBLAS, row by row (served)", "f32 kernel", "bf16 kernel", "q8_0 kernel"};
        long[] formatBytes = {bytes(f32), bytes(f32), bytes(bf16), bytes(q80)};
        Runnable[][] runs = new Runnable[ROWS.length][];
        for (int i = 0; i < ROWS.length; i++) {
            int rows = ROWS[i];
            runs[i] = new Runnable[] {
                () -> blas.forEach(l -> l.forward(x, y, rows)),
                () -> f32.forEach(w -> w.multiply(x.buffer(), null, y.buffer(), rows)),
                () -> bf16.forEach(w -> w.multiply(x.buffer(), null, y.buffer(), rows)),
                () -> q80.forEach(w -> w.multiply(x.buffer(), null, y.buffer(), rows)),
            };
        }
        // every product at every row count before timing, so that the JIT has compiled every tile; q8_0 first,
        // then bf16, then f32: on Java 17 a format's tiles compile slower (2-3x) when another format's ran first
        // in the same JVM (type profiles of the Vector API's shared code), and q8_0 suffers most; the service
        // holds one format. Then the repetitions take turns, so that a noisy moment on the shared machine
        // spreads over all of them.
        for (int p = names.length - 1; p >= 0; p--) {
            for (int warm = 0; warm < 3; warm++) {
                for (Runnable[] r : runs) {
                    r[p].run();
                }
            }
        }
        double[][][] samples = new double[ROWS.length][names.length][reps];
        for (int rep = 0; rep < reps; rep++) {
            for (int i = 0; i < ROWS.length; i++) {
                for (int p = 0; p < names.length; p++) {
                    long start = System.nanoTime();
                    runs[i][p].run();
                    samples[i][p][rep] = (System.nanoTime() - start) / 1e9;
                }
            }
        }
        double[][] times = new double[ROWS.length][names.length];
        for (int i = 0; i < ROWS.length; i++) {
            for (int p = 0; p < names.length; p++) {
                Arrays.sort(samples[i][p]);
                times[i][p] = samples[i][p][0];
            }
        }
        double oneBlasRow = times[0][0];
        for (int i = 0; i < ROWS.length; i++) {
            int rows = ROWS[i];
            for (int p = 0; p < names.length; p++) {
                double best = times[i][p];
                double median = samples[i][p][reps / 2];
                double memory = formatBytes[p] / bandwidth;
                double compute = flopsPerRow * rows / gemmPeak;
                line("| %d | %s | %.1f ms | %.1f ms | %.1f ms | %.2f | %.0f | %.2f | %.2f |", rows, names[p], best * 1e3,
                        memory * 1e3, compute * 1e3, Math.max(memory, compute) / best, rows / best,
                        rows * oneBlasRow / best, median / best);
            }
        }
        int one = 0;
        int sixteen = Arrays.binarySearch(ROWS, 16);
        line("");
        line("One row (single-stream decode), time of f32 BLAS over the kernel's: f32 %.2f, bf16 %.2f (goal 1.8),"
                + " q8_0 %.2f (goal 3)", times[one][0] / times[one][1], times[one][0] / times[one][2],
                times[one][0] / times[one][3]);
        StringBuilder goals = new StringBuilder();
        for (int p = 0; p < names.length; p++) {
            double rate = 16 / times[sixteen][p];
            double limit = Math.min(16 * bandwidth / formatBytes[p], gemmPeak / flopsPerRow);
            goals.append(String.format(java.util.Locale.ROOT, "%s%s %.2fx one f32 BLAS row, %.2f of the limit %.0f rows/s",
                    p == 0 ? "" : "; ", names[p], rate * oneBlasRow, rate / limit, limit));
        }
        line("16 rows, aggregate (goals: 6x one f32 row, 0.6 of min(16 x the format's bandwidth ceiling, GEMM peak"
                + " / %.2f GFLOP a row)): %s", flopsPerRow / 1e9, goals);
    }

    private static long bytes(List<WeightMatrix> matrices) {
        return matrices.stream().mapToLong(WeightMatrix::residentBytes).sum();
    }

    /** The vector-related flags /proc/cpuinfo lists for the first core. */
    private static String cpuFlags() throws IOException {
        Set<String> wanted = Set.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
                "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "asimd", "sve");
        Set<String> found = new TreeSet<>();
        for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (l.startsWith("flags") || l.startsWith("Features")) {
                for (String f : l.substring(l.indexOf(':') + 1).trim().split("\\s+")) {
                    if (wanted.contains(f)) {
                        found.add(f);
                    }
                }
                break;
            }
        }
        return String.join(" ", found);
    }

    /** A (rows, cols) tensor of normal values times std: speed does not depend on the values. */
    private static Tensor gaussian(int rows, int cols, float std) {
        Tensor t = Tensor.zeros(rows, cols);
        java.util.SplittableRandom random = new java.util.SplittableRandom(rows * 31L + cols);
        java.nio.FloatBuffer b = t.buffer();
        for (int i = 0; i < rows * cols; i++) {
            b.put(i, (float) (gaussian(random) * std));
        }
        return t;
    }

    private static double gaussian(java.util.SplittableRandom random) {
        // Box-Muller: enough for benchmark weights
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
