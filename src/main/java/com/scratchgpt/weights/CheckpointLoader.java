package com.scratchgpt.weights;

import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.ParameterSource;
import com.scratchgpt.model.ParameterTable;
import com.scratchgpt.model.ParameterTable.Parameter;
import com.scratchgpt.model.kernel.WeightFormat;

/**
 * Loads a checkpoint into a {@link GPTModel}: {@code model.safetensors}, or a PyTorch {@code .pth}/{@code .pt}
 * state_dict, with {@code config.json} beside it, in the seeds' layout or Hugging Face GPT-2's. Either the whole
 * model loads, or a {@link CheckpointException} names the file, the tensor and the problem.
 *
 * <p>Any stored dtype converts to any weight format, tensor by tensor as the model is built: an F16 or BF16
 * weight goes to bf16 from its 16-bit values, without a float32 copy of the tensor.
 */
public final class CheckpointLoader {

    private static final Logger log = LoggerFactory.getLogger(CheckpointLoader.class);

    /**
     * A loaded checkpoint and what it was.
     *
     * @param model      the model
     * @param file       the weights file read
     * @param config     the config.json read beside it
     * @param layout     the tensor names it uses
     * @param dtype      the dtype(s) stored, comma-separated
     * @param loadMillis how long loading took
     */
    public record Loaded(GPTModel model, Path file, Path config, CheckpointLayout layout, String dtype, long loadMillis) {
    }

    private CheckpointLoader() {
    }

    /** The checkpoint at {@code path} with float32 weights ({@link #load(Path, WeightFormat)}). */
    public static Loaded load(Path path) {
        return load(path, WeightFormat.F32);
    }

    /**
     * @param path   a folder holding config.json and model.safetensors, or a .safetensors, .pth or .pt file with
     *               config.json beside it (which may be left out for the GPT-2 sizes)
     * @param format how the model holds its linear layers' weights and token embedding
     */
    public static Loaded load(Path path, WeightFormat format) {
        long start = System.nanoTime();
        Path file = Files.isDirectory(path) ? path.resolve("model.safetensors") : path;
        Path config = file.toAbsolutePath().getParent().resolve("config.json");
        // the weights file first: when the path given is wrong, that path is what the error must name
        try (TensorFile st = TensorFile.open(file)) {
            CheckpointLayout.Detected detected = CheckpointLayout.detect(st.entries().keySet());
            if (detected == null) {
                throw new CheckpointException(file, null, "neither the seeds' tensor names (tok_emb.weight, ...) "
                        + "nor Hugging Face GPT-2's (wte.weight, ...) found");
            }
            GPTConfig cfg = CheckpointConfig.read(config, detected, st.entries());
            CheckpointLayout layout = detected.layout();
            boolean tied = !st.entries().containsKey(layout.outputHeadName(cfg, detected.prefix()));
            // Each block has tensors of its own, so a file of n tensors holds at most n blocks. Listing the expected
            // tensors of at most n + 1 blocks still finds the missing one, where a wrong n_layer of 10^9 in
            // config.json would first have listed billions of names (minutes, or an OutOfMemoryError).
            int entries = st.entries().size();
            GPTConfig listed = cfg.nLayers() <= entries ? cfg : new GPTConfig(cfg.vocabSize(), cfg.contextLength(),
                    cfg.embDim(), cfg.nHeads(), entries + 1, cfg.dropRate(), cfg.qkvBias());
            Map<String, List<CheckpointLayout.Source>> sources = layout.sources(listed, detected.prefix(), tied);
            checkTensorsAgainstConfig(st, sources, layout, listed, detected.prefix(), tied);
            CausalMask.check(st, cfg);

            if (!tied && layout == CheckpointLayout.HUGGING_FACE && sameValues(st,
                    sources.get(ParameterTable.TOK_EMB.name(-1, ParameterTable.Role.WEIGHT)).get(0).name(),
                    sources.get(ParameterTable.OUT_HEAD.name(-1, ParameterTable.Role.WEIGHT)).get(0).name())) {
                tied = true; // GPT2LMHeadModel ties lm_head to wte: keep one array
            }
            String dtypes = st.entries().values().stream().filter(e -> !layout.ignored(e.name()))
                    .map(e -> e.dtype().name()).collect(Collectors.toCollection(TreeSet::new))
                    .stream().collect(Collectors.joining(","));
            GPTModel model = GPTModel.load(cfg, tied, format, new FileSource(st, sources));
            long millis = (System.nanoTime() - start) / 1_000_000;
            return new Loaded(model, file, config, layout, dtypes, millis);
        }
    }

    /** Every expected tensor present with the shape the config implies; extra tensors logged, bias mismatches refused. */
    private static void checkTensorsAgainstConfig(TensorFile st, Map<String, List<CheckpointLayout.Source>> sources,
                                                  CheckpointLayout layout, GPTConfig cfg, String prefix, boolean tied) {
        Set<String> used = new TreeSet<>();
        for (List<CheckpointLayout.Source> list : sources.values()) {
            for (CheckpointLayout.Source s : list) {
                TensorFile.Entry e = st.entries().get(s.name());
                if (e == null) {
                    throw new CheckpointException(st.path(), s.name(), "missing tensor");
                }
                if (e.dtype() == Dtype.BOOL) {
                    throw new CheckpointException(st.path(), s.name(), "a bool tensor where a weight belongs");
                }
                if (!Arrays.equals(e.shape(), s.shape())) {
                    throw new CheckpointException(st.path(), s.name(), "shape " + Arrays.toString(e.shape())
                            + " disagrees with config.json, which implies " + Arrays.toString(s.shape()));
                }
                used.add(s.name());
            }
        }
        Set<String> extra = new TreeSet<>(st.entries().keySet());
        extra.removeAll(used);
        extra.removeIf(layout::ignored);
        if (!cfg.qkvBias()) {
            // the names query/key/value biases would have, had config.json said qkv_bias true
            GPTConfig withBias = new GPTConfig(cfg.vocabSize(), cfg.contextLength(), cfg.embDim(), cfg.nHeads(),
                    cfg.nLayers(), cfg.dropRate(), true);
            Map<String, List<CheckpointLayout.Source>> biases = layout.sources(withBias, prefix, tied);
            biases.keySet().removeAll(sources.keySet());
            Set<String> qkvBiases = biases.values().stream().flatMap(List::stream)
                    .map(CheckpointLayout.Source::name).collect(Collectors.toSet());
            for (String name : extra) {
                if (qkvBiases.contains(name)) {
                    throw new CheckpointException(st.path(), name, "query/key/value bias present but config.json has qkv_bias false");
                }
            }
        }
        if (!extra.isEmpty()) {
            log.warn("{}: ignoring {} unknown tensor(s): {}", st.path(), extra.size(), extra);
        }
    }

    /** Whether two stored tensors hold the same values (NaN equal to NaN, -0 to 0), read where they lie. */
    private static boolean sameValues(TensorFile st, String a, String b) {
        boolean[] same = new boolean[1];
        st.read(a, (ea, x) -> st.read(b, (eb, y) -> {
            long n = ea.numel();
            if (n != eb.numel()) {
                return;
            }
            for (int i = 0; i < n; i++) {
                float u = ea.dtype().get(x, i);
                float v = eb.dtype().get(y, i);
                if (u != v && !(Float.isNaN(u) && Float.isNaN(v))) {
                    return;
                }
            }
            same[0] = true;
        }));
        return same[0];
    }

    /** The model's parameters as the file's tensors fill them, each read when the model asks for it. */
    private record FileSource(TensorFile file, Map<String, List<CheckpointLayout.Source>> sources) implements ParameterSource {

        @Override
        public void read(Parameter p, FloatBuffer dst) {
            for (CheckpointLayout.Source s : sources.get(p.name())) {
                file.readInto(s.name(), dst, Math.toIntExact(s.offset()), s.transpose());
            }
        }

        @Override
        public Half half(Parameter p) {
            Set<Dtype> stored = sources.get(p.name()).stream().map(s -> file.entries().get(s.name()).dtype())
                    .collect(Collectors.toSet());
            if (stored.equals(Set.of(Dtype.BF16))) {
                return Half.BF16;
            }
            return stored.equals(Set.of(Dtype.F16)) ? Half.F16 : null;
        }

        @Override
        public void readHalf(Parameter p, ShortBuffer dst) {
            for (CheckpointLayout.Source s : sources.get(p.name())) {
                file.readBitsInto(s.name(), dst, Math.toIntExact(s.offset()), s.transpose());
            }
        }
    }
}
