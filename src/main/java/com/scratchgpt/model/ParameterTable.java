package com.scratchgpt.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The parameter table: every module of the seeds' GPTModel that holds parameters, one row each, in the
 * order the seeds construct them (which is also their {@code state_dict} order and the order PyTorch
 * draws their initial values in). Everything that names, shapes, initialises, counts or loads a
 * parameter derives it from here: {@link GPTModel}, {@link TorchInitializer}, {@link ParameterCount} and
 * the checkpoint layouts. Adding a tensor means adding or changing a row.
 *
 * <p>A row's parameters are named {@code <module>.<role>} ({@code trf_blocks.<i>.<module>.<role>} inside
 * a block), as the seeds' {@code state_dict} names them; {@code att.qkv} is the one module the seeds do
 * not have: their W_query, W_key and W_value stacked into one (3 emb, emb) projection.
 */
public enum ParameterTable {

    // seeds' module, kind, shape of its weight (or scale) under config c, bias, where it counts;
    // Hugging Face GPT-2's module and how it stores it; for a fused row, the seeds' modules it stacks
    TOK_EMB("tok_emb", Kind.EMBEDDING, c -> dims(c.vocabSize(), c.embDim()), Bias.NONE, Part.TOKEN_EMBEDDING,
            "wte", HuggingFace.EMBEDDING),
    POS_EMB("pos_emb", Kind.EMBEDDING, c -> dims(c.contextLength(), c.embDim()), Bias.NONE, Part.POSITION_EMBEDDING,
            "wpe", HuggingFace.EMBEDDING),
    ATT_QKV("att.qkv", Kind.LINEAR, c -> dims(3 * c.embDim(), c.embDim()), Bias.QKV_BIAS, Part.ATTENTION,
            "attn.c_attn", HuggingFace.CONV1D, "att.W_query", "att.W_key", "att.W_value"),
    ATT_OUT_PROJ("att.out_proj", Kind.LINEAR, c -> dims(c.embDim(), c.embDim()), Bias.ALWAYS, Part.ATTENTION,
            "attn.c_proj", HuggingFace.CONV1D),
    FF_FC("ff.layers.0", Kind.LINEAR, c -> dims(4 * c.embDim(), c.embDim()), Bias.ALWAYS, Part.FEED_FORWARD,
            "mlp.c_fc", HuggingFace.CONV1D),
    FF_PROJ("ff.layers.2", Kind.LINEAR, c -> dims(c.embDim(), 4 * c.embDim()), Bias.ALWAYS, Part.FEED_FORWARD,
            "mlp.c_proj", HuggingFace.CONV1D),
    NORM1("norm1", Kind.LAYER_NORM, c -> dims(c.embDim()), Bias.NONE, Part.LAYER_NORMS,
            "ln_1", HuggingFace.LAYER_NORM),
    NORM2("norm2", Kind.LAYER_NORM, c -> dims(c.embDim()), Bias.NONE, Part.LAYER_NORMS,
            "ln_2", HuggingFace.LAYER_NORM),
    FINAL_NORM("final_norm", Kind.LAYER_NORM, c -> dims(c.embDim()), Bias.NONE, Part.FINAL_NORM,
            "ln_f", HuggingFace.LAYER_NORM),
    OUT_HEAD("out_head", Kind.LINEAR, c -> dims(c.vocabSize(), c.embDim()), Bias.NONE, Part.OUTPUT_HEAD,
            "lm_head", HuggingFace.LINEAR);

    /** The PyTorch module a row is, which fixes its parameters and how PyTorch initialises them. */
    public enum Kind {
        /** nn.Embedding: weight (num, emb), {@code normal_(0, 1)}. */
        EMBEDDING,
        /**
         * nn.Linear: weight (out, in), {@code kaiming_uniform_(a=sqrt(5))}, then bias (out),
         * {@code uniform_(-1/sqrt(in), 1/sqrt(in))}; a fused row is its stacked modules initialised one
         * after another, each weight then its bias.
         */
        LINEAR,
        /** The seeds' LayerNorm: scale (emb) ones, shift (emb) zeros. */
        LAYER_NORM
    }

    /** Whether a linear row has a bias. */
    enum Bias {
        NONE, ALWAYS, QKV_BIAS;

        boolean present(GPTConfig cfg) {
            return this == ALWAYS || this == QKV_BIAS && cfg.qkvBias();
        }
    }

    /** Where a row's parameters count in {@code /model/params}: a component, or a part of every block. */
    public enum Part {
        TOKEN_EMBEDDING, POSITION_EMBEDDING, ATTENTION(true), FEED_FORWARD(true), LAYER_NORMS(true), FINAL_NORM,
        OUTPUT_HEAD;

        private final boolean inBlock;

        Part() {
            this(false);
        }

        Part(boolean inBlock) {
            this.inBlock = inBlock;
        }

        public boolean inBlock() {
            return inBlock;
        }
    }

    /** How Hugging Face's GPT-2 stores the module. */
    public enum HuggingFace {
        EMBEDDING,
        /** GPT-2's Conv1D: the weight stored (in, out), the transpose of nn.Linear's. */
        CONV1D,
        /** nn.Linear: GPT2LMHeadModel's lm_head, beside the {@code transformer.} modules rather than among them. */
        LINEAR,
        /** nn.LayerNorm: weight and bias for the seeds' scale and shift. */
        LAYER_NORM
    }

    /** A parameter's place in its module, with its suffix in the seeds' names and in Hugging Face's. */
    public enum Role {
        WEIGHT("weight", "weight"), BIAS("bias", "bias"), SCALE("scale", "weight"), SHIFT("shift", "bias");

        private final String seedsName;
        private final String huggingFaceName;

        Role(String seedsName, String huggingFaceName) {
            this.seedsName = seedsName;
            this.huggingFaceName = huggingFaceName;
        }

        public String seedsName() {
            return seedsName;
        }

        public String huggingFaceName() {
            return huggingFaceName;
        }
    }

    /**
     * One parameter tensor.
     *
     * @param name  the seeds' state_dict name, e.g. trf_blocks.3.att.qkv.weight
     * @param shape its shape under the configuration
     * @param row   the module it belongs to
     * @param layer the block it belongs to, or -1 outside the blocks
     * @param role  weight, bias, scale or shift
     */
    public record Parameter(String name, long[] shape, ParameterTable row, int layer, Role role) {

        public long numel() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact);
        }

        /**
         * Whether it is held in the model's weight format ({@code gpt.model.weight-format}): the linear layers'
         * weights, which every token streams through, and the token embedding, which the output head reads
         * as its weight when tied. The position embedding, the LayerNorm parameters and the biases stay
         * float32: they are added, not multiplied through, and weigh under 0.6 % of GPT-2's parameters.
         */
        public boolean inWeightFormat() {
            return role == Role.WEIGHT && (row.kind == Kind.LINEAR || row == TOK_EMB);
        }
    }

    private final String module;
    private final Kind kind;
    private final Function<GPTConfig, long[]> shape;
    private final Bias bias;
    private final Part part;
    private final String huggingFaceModule;
    private final HuggingFace huggingFace;
    private final List<String> seedsModules;

    ParameterTable(String module, Kind kind, Function<GPTConfig, long[]> shape, Bias bias, Part part,
                   String huggingFaceModule, HuggingFace huggingFace, String... stacked) {
        this.module = module;
        this.kind = kind;
        this.shape = shape;
        this.bias = bias;
        this.part = part;
        this.huggingFaceModule = huggingFaceModule;
        this.huggingFace = huggingFace;
        this.seedsModules = stacked.length == 0 ? List.of(module) : List.of(stacked);
    }

    public Kind kind() {
        return kind;
    }

    public Part part() {
        return part;
    }

    /** The module's name in Hugging Face's GPT-2, relative to the block ({@code h.<i>.}) for block rows. */
    public String huggingFaceModule() {
        return huggingFaceModule;
    }

    public HuggingFace huggingFace() {
        return huggingFace;
    }

    /** The seeds' modules this row holds, relative to the block: itself, or the three a fused row stacks. */
    public List<String> seedsModules() {
        return seedsModules;
    }

    /** The parameter's state_dict name in block {@code layer} (-1 outside the blocks). */
    public String name(int layer, Role role) {
        return blockPrefix(layer) + module + "." + role.seedsName();
    }

    /** {@code trf_blocks.<layer>.} inside a block, empty outside. */
    public static String blockPrefix(int layer) {
        return layer < 0 ? "" : "trf_blocks." + layer + ".";
    }

    /** This row's parameters in block {@code layer} (-1 outside the blocks), weight or scale first. */
    public List<Parameter> parametersIn(GPTConfig cfg, int layer) {
        long[] main = shape.apply(cfg);
        return switch (kind) {
            case EMBEDDING -> List.of(parameter(main, layer, Role.WEIGHT));
            case LINEAR -> bias.present(cfg)
                    ? List.of(parameter(main, layer, Role.WEIGHT), parameter(dims(main[0]), layer, Role.BIAS))
                    : List.of(parameter(main, layer, Role.WEIGHT));
            case LAYER_NORM -> List.of(parameter(main, layer, Role.SCALE), parameter(main, layer, Role.SHIFT));
        };
    }

    /** Parameters of this row once (of one block, for block rows). */
    public long parameterCount(GPTConfig cfg) {
        return parametersIn(cfg, part.inBlock() ? 0 : -1).stream().mapToLong(Parameter::numel).sum();
    }

    /**
     * Every parameter of the model in construction order: the rows before the blocks, every block's rows
     * block by block, the rows after. A tied output head is the token embedding's array and is not listed.
     */
    public static List<Parameter> parameters(GPTConfig cfg, boolean tiedOutputHead) {
        List<Parameter> all = new ArrayList<>();
        boolean blocksListed = false;
        for (ParameterTable row : values()) {
            if (!row.part.inBlock()) {
                if (!(row == OUT_HEAD && tiedOutputHead)) {
                    all.addAll(row.parametersIn(cfg, -1));
                }
            } else if (!blocksListed) {
                for (int layer = 0; layer < cfg.nLayers(); layer++) {
                    for (ParameterTable blockRow : values()) {
                        if (blockRow.part.inBlock()) {
                            all.addAll(blockRow.parametersIn(cfg, layer));
                        }
                    }
                }
                blocksListed = true;
            }
        }
        return all;
    }

    private Parameter parameter(long[] shape, int layer, Role role) {
        return new Parameter(name(layer, role), shape.clone(), this, layer, role);
    }

    private static long[] dims(long... dims) {
        return dims;
    }
}
