package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.scratchgpt.model.ParameterTable.Parameter;
import com.scratchgpt.model.kernel.WeightFormat;
import com.scratchgpt.model.kernel.WeightMatrix;

/**
 * GPTModel.load asks its source for each parameter once, in the table's order, so that a checkpoint or the
 * initialiser is read tensor by tensor; in bf16, 16-bit stored matrices come as their bits, never as float32;
 * what is held, and counted in residentBytes, is the format's matrices and float32 for the rest.
 */
class GPTModelLoadTest {

    private static final GPTConfig CFG = new GPTConfig(300, 16, 64, 4, 2, 0.0, true);

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void everyParameterIsAskedForOnceInTheTablesOrder(WeightFormat format) {
        Recording source = new Recording(false);

        GPTModel model = GPTModel.load(CFG, true, format, source);

        List<String> expected = ParameterTable.parameters(CFG, true).stream().map(Parameter::name).toList();
        assertThat(source.asked).containsExactlyElementsOf(expected);
        assertThat(model.weightFormat()).isEqualTo(format);
        assertThat(model.tiedOutputHead()).isTrue();
    }

    @Test
    void inBf16MatricesStoredIn16BitsComeAsTheirBitsAndAreHeldExactly() {
        Recording source = new Recording(true);

        GPTModel model = GPTModel.load(CFG, false, WeightFormat.BF16, source);

        for (Parameter p : ParameterTable.parameters(CFG, false)) {
            boolean matrix = p.inWeightFormat();
            assertThat(source.asFloat.contains(p.name())).as("%s read as float32", p.name()).isEqualTo(!matrix);
            assertThat(source.asBits.contains(p.name())).as("%s read as bits", p.name()).isEqualTo(matrix);
            if (matrix) {
                WeightMatrix w = model.convertedParameters().get(p.name());
                float[] row = new float[w.inFeatures()];
                for (int o = 0; o < w.outFeatures(); o++) {
                    w.dequantizeRow(o, row, 0);
                    for (int k = 0; k < row.length; k++) {
                        assertThat(row[k]).isEqualTo(source.value(p, o * row.length + k));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void residentBytesAreTheFormatsMatricesAndFloat32ForTheRest(WeightFormat format) {
        GPTModel model = GPTModel.load(CFG, false, format, new Recording(false));

        long expected = 0;
        for (Parameter p : ParameterTable.parameters(CFG, false)) {
            expected += !p.inWeightFormat() || format == WeightFormat.F32 ? p.numel() * Float.BYTES
                    : model.convertedParameters().get(p.name()).residentBytes();
        }
        assertThat(model.residentBytes()).isEqualTo(expected);
        assertThat(model.parameters().keySet()).as("float32 arrays held")
                .allMatch(name -> format == WeightFormat.F32 || !model.convertedParameters().containsKey(name));
        long converted = ParameterTable.parameters(CFG, false).stream().filter(Parameter::inWeightFormat).count();
        assertThat(model.convertedParameters()).hasSize(format == WeightFormat.F32 ? 0 : (int) converted);
    }

    /** Values that are bfloat16 already (so bits and floats agree), recording what is asked and how. */
    private static final class Recording implements ParameterSource {

        final List<String> asked = new ArrayList<>();
        final List<String> asFloat = new ArrayList<>();
        final List<String> asBits = new ArrayList<>();
        private final boolean halves;

        Recording(boolean halves) {
            this.halves = halves;
        }

        float value(Parameter p, int i) {
            float v = (float) new Random(p.name().hashCode() * 31L + i).nextGaussian();
            return Float.intBitsToFloat(Float.floatToRawIntBits(v) & 0xFFFF0000);
        }

        @Override
        public void read(Parameter p, FloatBuffer dst) {
            asked.add(p.name());
            asFloat.add(p.name());
            for (int i = 0; i < p.numel(); i++) {
                dst.put(i, value(p, i));
            }
        }

        @Override
        public Half half(Parameter p) {
            return halves ? Half.BF16 : null;
        }

        @Override
        public void readHalf(Parameter p, ShortBuffer dst) {
            asked.add(p.name());
            asBits.add(p.name());
            for (int i = 0; i < p.numel(); i++) {
                dst.put(i, (short) (Float.floatToRawIntBits(value(p, i)) >>> 16));
            }
        }
    }
}
