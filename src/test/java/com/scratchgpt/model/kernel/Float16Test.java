package com.scratchgpt.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** binary16 conversions against PyTorch's, ties, subnormals and overflow included. */
class Float16Test {

    /**
     * {float32 bits, binary16 bits} as PyTorch 1.13's {@code .to(torch.float16)} gives them, printed by
     * {@code /usr/bin/python3 scripts/roundings.py}.
     */
    static final int[][] TORCH_F16 = {
        {0x3F800000, 0x3C00}, // 1.0
        {0x3F808000, 0x3C04}, // 1.00390625
        {0x3F818000, 0x3C0C}, // 1.01171875
        {0x40490FDB, 0x4248}, // 3.1415927410125732
        {0xC02DF854, 0xC170}, // -2.7182817459106445
        {0x000116C2, 0x0000}, // 9.99994610111476e-41
        {0x7F7F0000, 0x7C00}, // 3.3895313892515355e+38
        {0x7F7FFFFF, 0x7C00}, // 3.4028234663852886e+38
        {0x477FE000, 0x7BFF}, // 65504.0
        {0x477FEFFD, 0x7BFF}, // 65519.98828125
        {0x477FF000, 0x7C00}, // 65520.0
        {0x38800000, 0x0400}, // 6.103515625e-05
        {0x387FC000, 0x03FF}, // 6.097555160522461e-05
        {0x33000000, 0x0000}, // 2.9802322387695312e-08
        {0x33000001, 0x0001}, // 2.980232594040899e-08
        {0x33800000, 0x0001}, // 5.960464477539063e-08
        {0x33C00000, 0x0002}, // 8.940696716308594e-08
        {0x80000000, 0x8000}, // -0.0
        {0x3DCCCCCD, 0x2E66}, // 0.10000000149011612
        {0x3F802000, 0x3C01}, // 1.0009765625
        {0x3F801000, 0x3C00}, // 1.00048828125
        {0x3F803000, 0x3C02}, // 1.00146484375
        {0x7FC00000, 0x7E00}, // nan
        {0xFFC00000, 0xFE00}, // nan
    };

    @Test
    void roundsToNearestEvenAsPyTorchDoes() {
        for (int[] c : TORCH_F16) {
            float value = Float.intBitsToFloat(c[0]);
            assertThat(Float16.fromFloat(value) & 0xFFFF).as("%s (0x%08X)", value, c[0]).isEqualTo(c[1]);
        }
    }

    @Test
    void everyBinary16ValueConvertsToFloat32AndBackUnchanged() {
        for (int h = 0; h < 1 << 16; h++) {
            float f = Float16.toFloat((short) h);
            if (Float.isNaN(f)) {
                assertThat((h >>> 10 & 0x1F) == 0x1F && (h & 0x3FF) != 0).as("0x%04X", h).isTrue();
            } else {
                assertThat(Float16.fromFloat(f) & 0xFFFF).as("0x%04X (%s)", h, f).isEqualTo(h);
            }
        }
        assertThat(Float16.toFloat((short) 0x0001)).isEqualTo(0x1.0p-24f);
        assertThat(Float16.toFloat((short) 0x7BFF)).isEqualTo(65504f);
        assertThat(Float16.toFloat((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
    }
}
