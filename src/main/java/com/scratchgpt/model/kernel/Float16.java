package com.scratchgpt.model.kernel;

/**
 * IEEE 754 binary16 ("F16", {@code torch.float16}) to and from float32. Java 17 has neither
 * {@code Float.float16ToFloat} nor {@code Float.floatToFloat16} (both arrived in Java 20).
 */
public final class Float16 {

    /** Every binary16 value as float32, by its 16 bits: a product reads one q8_0 scale per 32 weights. */
    static final float[] TO_FLOAT = new float[1 << 16];

    static {
        for (int h = 0; h < TO_FLOAT.length; h++) {
            TO_FLOAT[h] = convert(h);
        }
    }

    private Float16() {
    }

    /** The float32 value of these binary16 bits, exactly (subnormals, infinities and NaN included). */
    public static float toFloat(short bits) {
        return TO_FLOAT[bits & 0xFFFF];
    }

    /**
     * The binary16 bits nearest to {@code value}, ties to even (as {@code tensor.to(torch.float16)}): values
     * from 65520 up become infinity, below 2^-25 zero, between them subnormals where needed.
     */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs > 0x7F800000) {
            return (short) (sign | 0x7E00); // NaN: the quiet NaN PyTorch gives
        }
        if (abs >= 0x477FF000) {
            return (short) (sign | 0x7C00); // 65520 and above round to infinity
        }
        if (abs >= 0x38800000) {
            // normal: round the 23-bit mantissa to 10 bits at bit 13, the carry may bump the exponent
            int rounded = abs + 0xFFF + ((abs >>> 13) & 1);
            return (short) (sign | (rounded - 0x38000000) >>> 13);
        }
        if (abs <= 0x33000000) {
            return (short) sign; // at most 2^-25, half the smallest subnormal: ties to even give zero
        }
        // subnormal: units of 2^-24
        int exponent = abs >>> 23;
        int mantissa = (abs & 0x7FFFFF) | 0x800000;
        int shift = 126 - exponent;
        int units = mantissa >>> shift;
        int rest = mantissa & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rest > half || rest == half && (units & 1) == 1) {
            units++;
        }
        return (short) (sign | units);
    }

    private static float convert(int h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1.0p-24f; // subnormal (or zero): mantissa * 2^-24, exact
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
