package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;

import org.junit.jupiter.api.Test;

/**
 * PyTorch's draws, bit for bit. The expected bits were printed by Debian's torch 1.13 (the one that
 * made the fixtures): {@code torch.manual_seed(123); torch.empty(20).normal_()} (20 values: one block of
 * 16, then the last 16 redrawn) and {@code torch.manual_seed(7); torch.empty(6).uniform_(-0.036, 0.036)}.
 */
class TorchRandomTest {

    @Test
    void normalMatchesPyTorchBitForBitIncludingTheRedrawnTail() {
        int[] expected = {0x3eacbbc9, 0xbe360b3b, 0xbe9b67f8, 0xbf1687f2, 0x3fca5d36, 0x3fa6887a, 0x3fa33d12,
                0xbe4dc6a6, 0xbe246ad5, 0xbecd8fd6, 0x3f321afa, 0xbfe72cbc, 0xbf9455c8, 0x3ea6a423, 0xbf21aa56,
                0xc035c276, 0xbf48ec26, 0xbfb46cdf, 0xbed0b478, 0x3f4b9a7e};
        FloatBuffer values = FloatBuffer.allocate(20);
        new TorchRandom(123).normal(values, 0, 20);
        for (int i = 0; i < 20; i++) {
            assertThat(Float.floatToRawIntBits(values.get(i))).as("value %d", i).isEqualTo(expected[i]);
        }
    }

    @Test
    void uniformMatchesPyTorchBitForBit() {
        int[] expected = {0x3b24c904, 0xbcb1a732, 0x3c3bd052, 0x3c391346, 0xbc9d9fa7, 0xbbb0cd65};
        FloatBuffer values = FloatBuffer.allocate(6);
        new TorchRandom(7).uniform(values, 0, 6, -0.036, 0.036);
        for (int i = 0; i < 6; i++) {
            assertThat(Float.floatToRawIntBits(values.get(i))).as("value %d", i).isEqualTo(expected[i]);
        }
    }
}
