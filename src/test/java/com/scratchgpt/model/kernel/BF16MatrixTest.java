package com.scratchgpt.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** bfloat16 weights: PyTorch's rounding, and checkpoint bits taken as they are. */
class BF16MatrixTest {

    /**
     * {float32 bits, bfloat16 bits} as PyTorch 1.13's {@code .to(torch.bfloat16)} gives them, printed by
     * {@code /usr/bin/python3 scripts/roundings.py} (NaN left out: PyTorch's 0xFFFF is one NaN among many).
     */
    static final int[][] TORCH_BF16 = {
        {0x3F800000, 0x3F80}, // 1.0
        {0x3F808000, 0x3F80}, // 1.00390625
        {0x3F818000, 0x3F82}, // 1.01171875
        {0x40490FDB, 0x4049}, // 3.1415927410125732
        {0xC02DF854, 0xC02E}, // -2.7182817459106445
        {0x000116C2, 0x0001}, // 9.99994610111476e-41
        {0x7F7F0000, 0x7F7F}, // 3.3895313892515355e+38
        {0x7F7FFFFF, 0x7F80}, // 3.4028234663852886e+38
        {0x477FE000, 0x4780}, // 65504.0
        {0x477FEFFD, 0x4780}, // 65519.98828125
        {0x477FF000, 0x4780}, // 65520.0
        {0x38800000, 0x3880}, // 6.103515625e-05
        {0x387FC000, 0x3880}, // 6.097555160522461e-05
        {0x33000000, 0x3300}, // 2.9802322387695312e-08
        {0x33000001, 0x3300}, // 2.980232594040899e-08
        {0x33800000, 0x3380}, // 5.960464477539063e-08
        {0x33C00000, 0x33C0}, // 8.940696716308594e-08
        {0x80000000, 0x8000}, // -0.0
        {0x3DCCCCCD, 0x3DCD}, // 0.10000000149011612
        {0x3F802000, 0x3F80}, // 1.0009765625
        {0x3F801000, 0x3F80}, // 1.00048828125
        {0x3F803000, 0x3F80}, // 1.00146484375
    };

    @Test
    void roundsToNearestEvenAsPyTorchDoes() {
        for (int[] c : TORCH_BF16) {
            float value = Float.intBitsToFloat(c[0]);
            assertThat(BF16Matrix.round(value) & 0xFFFF).as("%s (0x%08X)", value, c[0]).isEqualTo(c[1]);
        }
        assertThat(Float.isNaN(BF16Matrix.toFloat(BF16Matrix.round(Float.NaN)))).isTrue();
    }

    @Test
    void weightsFromFloat32AreTheRoundedValues() {
        Random random = new Random(7);
        FloatBuffer values = WeightMatrixTest.values(random, 9 * 13);

        float[][] stored = WeightMatrixTest.stored(WeightMatrix.of(WeightFormat.BF16, values, 9, 13));

        for (int i = 0; i < 9 * 13; i++) {
            assertThat(stored[i / 13][i % 13]).isEqualTo(BF16Matrix.toFloat(BF16Matrix.round(values.get(i))));
        }
    }

    @Test
    void bf16BitsAreKeptAndF16BitsRoundedWithoutAFloat32Copy() {
        Random random = new Random(11);
        ShortBuffer bf16 = ShortBuffer.allocate(7 * 11);
        ShortBuffer f16 = ShortBuffer.allocate(7 * 11);
        for (int i = 0; i < 7 * 11; i++) {
            bf16.put(i, (short) random.nextInt(1 << 16));
            f16.put(i, Float16.fromFloat((float) random.nextGaussian()));
        }
        f16.put(3, (short) 0x3C01); // 1 + 2^-10: below bfloat16's precision, rounds to 1.0
        f16.put(4, (short) 0x0001); // a binary16 subnormal: a normal bfloat16

        float[][] fromBf16 = WeightMatrixTest.stored(WeightMatrix.bf16FromBf16(bf16, 7, 11));
        float[][] fromF16 = WeightMatrixTest.stored(WeightMatrix.bf16FromF16(f16, 7, 11));

        for (int i = 0; i < 7 * 11; i++) {
            assertThat(Float.floatToRawIntBits(fromBf16[i / 11][i % 11])).isEqualTo((bf16.get(i) & 0xFFFF) << 16);
            assertThat(fromF16[i / 11][i % 11])
                    .isEqualTo(BF16Matrix.toFloat(BF16Matrix.round(Float16.toFloat(f16.get(i)))));
        }
        assertThat(fromF16[0][3]).isEqualTo(1f);
        assertThat(fromF16[0][4]).isEqualTo(0x1.0p-24f);
    }
}
