package com.scratchgpt.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import com.scratchgpt.model.GPTConfig;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Thousands of random and mutated safetensors files, opened with {@link SafetensorsFile#open} (and every
 * tensor then read) and with {@link CheckpointLoader#load}, and mutated config.json files beside a valid
 * one: the only outcomes allowed are success and a {@link CheckpointException}; no other exception, no
 * OutOfMemoryError, no hang. The seed is fixed, and a failure reports the case number, so a failing
 * case reproduces.
 */
class SafetensorsFuzzTest {

    static final long SEED = 0x5AFE_7E45_0125L;
    static final int CASES = 8000;
    static final int CONFIG_CASES = 1500;

    /** A Hugging Face GPT-2 small enough that a valid file is about a kilobyte. */
    static final GPTConfig CONFIG = new GPTConfig(10, 4, 4, 2, 1, 0.1, true);

    @TempDir
    Path dir;

    private Logger loaderLog;
    private Level loaderLevel;

    @BeforeEach
    void quietLoader() throws IOException {
        // mutated names make the loader warn about unknown tensors thousands of times
        loaderLog = (Logger) LoggerFactory.getLogger(CheckpointLoader.class);
        loaderLevel = loaderLog.getLevel();
        loaderLog.setLevel(Level.ERROR);
        Files.writeString(dir.resolve("config.json"), """
                {"vocab_size": 10, "n_positions": 4, "n_embd": 4, "n_head": 2, "n_layer": 1, "layer_norm_epsilon": 1e-5}
                """);
    }

    @AfterEach
    void restoreLoader() {
        loaderLog.setLevel(loaderLevel);
    }

    @Test
    void theValidBaseFilesLoad() {
        Random random = new Random(SEED);
        for (String dtype : new String[] {"F32", "F16", "BF16"}) {
            Base base = Base.of(dtype, random);
            Path file = SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), base.header.length, base.header, base.data);
            CheckpointLoader.Loaded loaded = CheckpointLoader.load(file);
            assertThat(loaded.dtype()).isEqualTo(dtype);
            assertThat(loaded.model().config()).isEqualTo(CONFIG);
        }
    }

    @Test
    // in a thread of its own, so that a parser stuck in a loop fails the test instead of blocking the build
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void randomAndMutatedFilesEitherLoadOrFailWithACheckpointException() {
        Random random = new Random(SEED);
        Base[] bases = {Base.of("F32", random), Base.of("F16", random), Base.of("BF16", random)};
        int[] outcomes = new int[2];
        for (int i = 0; i < CASES; i++) {
            Base base = bases[random.nextInt(bases.length)];
            Mutation mutation = Mutation.values()[random.nextInt(Mutation.values().length)];
            byte[] bytes = mutation.apply(base, random);
            // a new file each case: rewriting one file in place costs ext4 a flush, thousands of them 15 s
            Path file = write(dir.resolve("case-" + i + ".safetensors"), bytes);
            outcomes[openAndRead(file, i, mutation, bytes)]++;
            outcomes[load(file, i, mutation, bytes)]++;
            delete(file);
        }
        // both outcomes occur, so the mutations neither always break the file nor never do
        assertThat(outcomes[0]).as("successes").isPositive();
        assertThat(outcomes[1]).as("CheckpointExceptions").isPositive();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void mutatedConfigJsonEitherLoadsOrFailsWithACheckpointException() throws IOException {
        Random random = new Random(SEED);
        Base base = Base.of("F32", random);
        String[] configs = {
            "{\"vocab_size\": 10, \"n_positions\": 4, \"n_ctx\": 4, \"n_embd\": 4, \"n_head\": 2, \"n_layer\": 1, "
                    + "\"layer_norm_epsilon\": 1e-05, \"resid_pdrop\": 0.1}",
            "{\"vocab_size\": 10, \"context_length\": 4, \"emb_dim\": 4, \"n_heads\": 2, \"n_layers\": 1, "
                    + "\"drop_rate\": 0.1, \"qkv_bias\": true}"};
        String[] fields = {"vocab_size", "n_positions", "n_ctx", "n_embd", "n_head", "n_layer", "layer_norm_epsilon",
            "resid_pdrop", "context_length", "emb_dim", "n_heads", "n_layers", "drop_rate", "qkv_bias"};
        int[] outcomes = new int[2];
        for (int i = 0; i < CONFIG_CASES; i++) {
            String config = configs[random.nextInt(configs.length)];
            byte[] mutated = switch (random.nextInt(4)) {
                case 0 -> {
                    ObjectNode c = (ObjectNode) SafetensorsImage.JSON.readTree(config);
                    c.set(fields[random.nextInt(fields.length)], Mutation.randomValue(random, 2));
                    yield SafetensorsImage.JSON.writeValueAsBytes(c);
                }
                case 1 -> {
                    ObjectNode c = (ObjectNode) SafetensorsImage.JSON.readTree(config);
                    c.remove(fields[random.nextInt(fields.length)]);
                    yield SafetensorsImage.JSON.writeValueAsBytes(c);
                }
                case 2 -> {
                    List<int[]> numbers = Mutation.numbers(config);
                    int[] at = numbers.get(random.nextInt(numbers.size()));
                    String[] replacements = {"0", "-1", "1.5", "1e-3", "2147483648", "99999999999999999999", "3", "1000000"};
                    yield (config.substring(0, at[0]) + replacements[random.nextInt(replacements.length)]
                            + config.substring(at[1])).getBytes(StandardCharsets.UTF_8);
                }
                default -> {
                    byte[] b = config.getBytes(StandardCharsets.UTF_8);
                    b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                    yield b;
                }
            };
            Path caseDir = Files.createDirectory(dir.resolve("config-" + i));
            write(caseDir.resolve("config.json"), mutated);
            Path file = write(caseDir.resolve("model.safetensors"), Mutation.file(base.header.length, base.header, base.data));
            outcomes[load(file, i, null, mutated)]++;
            delete(file);
            delete(caseDir.resolve("config.json"));
            delete(caseDir);
        }
        assertThat(outcomes[0]).as("successes").isPositive();
        assertThat(outcomes[1]).as("CheckpointExceptions").isPositive();
    }

    /** 0 when the file opened and every tensor read, 1 for a CheckpointException; anything else fails the test. */
    private static int openAndRead(Path file, int i, Mutation mutation, byte[] bytes) {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            for (SafetensorsFile.Entry e : st.entries().values()) {
                FloatBuffer dst = FloatBuffer.allocate(Math.toIntExact(e.numel()));
                st.readInto(e.name(), dst, 0, e.shape().length == 2);
            }
            return 0;
        } catch (CheckpointException e) {
            return 1;
        } catch (Throwable t) {
            return fail(report("SafetensorsFile.open", i, mutation, bytes), t);
        }
    }

    private static int load(Path file, int i, Mutation mutation, byte[] bytes) {
        try {
            CheckpointLoader.load(file);
            return 0;
        } catch (CheckpointException e) {
            return 1;
        } catch (Throwable t) {
            return fail(report("CheckpointLoader.load", i, mutation, bytes), t);
        }
    }

    private static String report(String call, int i, Mutation mutation, byte[] bytes) {
        String head = new String(bytes, 0, Math.min(bytes.length, 400), StandardCharsets.ISO_8859_1);
        return call + " threw something other than a CheckpointException on case " + i + " (seed " + SEED + ", "
                + (mutation == null ? "config.json" : mutation) + "), file starting " + head;
    }

    static Path write(Path file, byte[] bytes) {
        try {
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A valid checkpoint of {@link #CONFIG}: header JSON (as the reference writer lays it out) and data. */
    record Base(String dtype, byte[] header, byte[] data) {

        static Base of(String dtype, Random random) {
            int bytesPerValue = dtype.equals("F32") ? 4 : 2;
            ObjectNode header = SafetensorsImage.JSON.createObjectNode();
            long offset = 0;
            for (List<CheckpointLayout.Source> sources : CheckpointLayout.HUGGING_FACE.sources(CONFIG, "", true).values()) {
                for (CheckpointLayout.Source s : sources) {
                    long n = Arrays.stream(s.shape()).reduce(1, (a, b) -> a * b) * bytesPerValue;
                    ObjectNode entry = header.putObject(s.name()).put("dtype", dtype);
                    Arrays.stream(s.shape()).forEach(entry.putArray("shape")::add);
                    entry.putArray("data_offsets").add(offset).add(offset + n);
                    offset += n;
                }
            }
            header.putObject("__metadata__").put("format", "pt");
            byte[] data = new byte[Math.toIntExact(offset)];
            ByteBuffer values = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < offset / bytesPerValue; i++) {
                float v = (float) random.nextGaussian() * 0.1f;
                if (bytesPerValue == 4) {
                    values.putFloat(v);
                } else {
                    values.putShort((short) (Float.floatToIntBits(v) >>> 16)); // a BF16, and some F16 bit pattern
                }
            }
            return new Base(dtype, SafetensorsImage.JSON.writeValueAsBytes(header), data);
        }

        String headerText() {
            return new String(header, StandardCharsets.UTF_8);
        }
    }

    /** Ways to spoil a valid file; each returns the bytes of the whole file. */
    enum Mutation {
        /** Random bytes, sometimes behind a plausible header length. */
        RANDOM_BYTES {
            @Override
            byte[] apply(Base base, Random r) {
                byte[] body = new byte[r.nextInt(600)];
                r.nextBytes(body);
                return r.nextBoolean() ? body : file(r.nextInt(body.length + 2), body, new byte[0]);
            }
        },
        /** A few header bytes replaced at random. */
        FLIPPED_HEADER_BYTES {
            @Override
            byte[] apply(Base base, Random r) {
                byte[] h = base.header.clone();
                for (int k = 1 + r.nextInt(4); k > 0; k--) {
                    h[r.nextInt(h.length)] = (byte) r.nextInt(256);
                }
                return file(h.length, h, base.data);
            }
        },
        /** A few header characters replaced by JSON-significant ones. */
        FLIPPED_HEADER_SYNTAX {
            @Override
            byte[] apply(Base base, Random r) {
                byte[] h = base.header.clone();
                byte[] syntax = "{}[]\",:-0123456789.eE \\ntfu".getBytes(StandardCharsets.US_ASCII);
                for (int k = 1 + r.nextInt(4); k > 0; k--) {
                    h[r.nextInt(h.length)] = syntax[r.nextInt(syntax.length)];
                }
                return file(h.length, h, base.data);
            }
        },
        /** The header cut short, its length field telling the truth or not. */
        TRUNCATED_HEADER {
            @Override
            byte[] apply(Base base, Random r) {
                byte[] h = Arrays.copyOf(base.header, r.nextInt(base.header.length));
                return file(r.nextBoolean() ? h.length : base.header.length, h, r.nextBoolean() ? base.data : new byte[0]);
            }
        },
        /** The file cut anywhere, or data appended. */
        TRUNCATED_OR_EXTENDED_FILE {
            @Override
            byte[] apply(Base base, Random r) {
                byte[] whole = file(base.header.length, base.header, base.data);
                return Arrays.copyOf(whole, r.nextBoolean() ? r.nextInt(whole.length) : whole.length + r.nextInt(64));
            }
        },
        /** A wrong header length: off by a little, huge, negative, or random. */
        WRONG_HEADER_LENGTH {
            @Override
            byte[] apply(Base base, Random r) {
                long[] lengths = {base.header.length + r.nextInt(17) - 8L, Long.MAX_VALUE, Long.MIN_VALUE, -1, 0, 1, 2,
                        1L << 31, (1L << 31) - 1, 1L << 32, SafetensorsFile.MAX_HEADER_BYTES + 1, r.nextLong()};
                return file(lengths[r.nextInt(lengths.length)], base.header, base.data);
            }
        },
        /** A number in the header replaced: huge, negative, fractional, exponent, or another number of the header. */
        REPLACED_NUMBER {
            @Override
            byte[] apply(Base base, Random r) {
                String text = base.headerText();
                List<int[]> numbers = numbers(text);
                int[] at = numbers.get(r.nextInt(numbers.size()));
                int[] other = numbers.get(r.nextInt(numbers.size()));
                String[] replacements = {"-1", "-" + text.substring(at[0], at[1]), "0", "-0", "1.5", "1e3", "1e400",
                        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616",
                        "2147483647", "2147483648", "4294967296", "99999999999999999999999999999999", "0.0", "NaN", "",
                        String.valueOf(r.nextInt(2000)), text.substring(other[0], other[1])};
                String replaced = text.substring(0, at[0]) + replacements[r.nextInt(replacements.length)] + text.substring(at[1]);
                return file(base, replaced);
            }
        },
        /** Two numbers of the header swapped. */
        SWAPPED_NUMBERS {
            @Override
            byte[] apply(Base base, Random r) {
                String text = base.headerText();
                List<int[]> numbers = numbers(text);
                int[] a = numbers.get(r.nextInt(numbers.size()));
                int[] b = numbers.get(r.nextInt(numbers.size()));
                if (a[0] > b[0]) {
                    int[] t = a;
                    a = b;
                    b = t;
                }
                if (a[0] == b[0]) {
                    return file(base, text);
                }
                return file(base, text.substring(0, a[0]) + text.substring(b[0], b[1]) + text.substring(a[1], b[0])
                        + text.substring(a[0], a[1]) + text.substring(b[1]));
            }
        },
        /** A field of one entry (or the entry, or __metadata__) given a value of the wrong type. */
        WRONG_TYPE {
            @Override
            byte[] apply(Base base, Random r) {
                ObjectNode header = parse(base);
                List<String> names = new ArrayList<>(header.propertyNames());
                String name = names.get(r.nextInt(names.size()));
                JsonNode value = randomValue(r, 3);
                if (r.nextInt(4) == 0 || name.equals("__metadata__")) {
                    header.set(name, value);
                } else {
                    ObjectNode entry = (ObjectNode) header.get(name);
                    String[] fields = {"dtype", "shape", "data_offsets", "extra"};
                    String field = fields[r.nextInt(fields.length)];
                    if (r.nextBoolean() && entry.get(field) != null && entry.get(field).isArray() && !entry.get(field).isEmpty()) {
                        ((ArrayNode) entry.get(field)).set(0, value);
                    } else {
                        entry.set(field, value);
                    }
                }
                return file(base, SafetensorsImage.JSON.writeValueAsBytes(header));
            }
        },
        /** An entry removed, duplicated under another name, renamed, or given another dtype. */
        EDITED_ENTRIES {
            @Override
            byte[] apply(Base base, Random r) {
                ObjectNode header = parse(base);
                List<String> names = new ArrayList<>(header.propertyNames());
                String name = names.get(r.nextInt(names.size()));
                switch (r.nextInt(4)) {
                    case 0 -> header.remove(name);
                    case 1 -> header.set(name + "_copy", header.get(name).deepCopy());
                    case 2 -> header.set(r.nextBoolean() ? "" : "transformer." + name, header.remove(name));
                    default -> {
                        if (header.get(name) instanceof ObjectNode entry) {
                            String[] dtypes = {"F32", "F16", "BF16", "F64", "I64", "U8", "BOOL", "F8_E4M3", "f32", ""};
                            entry.put("dtype", dtypes[r.nextInt(dtypes.length)]);
                        }
                    }
                }
                return file(base, SafetensorsImage.JSON.writeValueAsBytes(header));
            }
        },
        /** Duplicate keys in the JSON text, which a tree parser may silently collapse. */
        DUPLICATE_KEYS {
            @Override
            byte[] apply(Base base, Random r) {
                String text = base.headerText();
                String entry = "\"wte.weight\":{\"dtype\":\"F32\",\"shape\":[" + r.nextInt(100) + ",4],\"data_offsets\":[0,"
                        + r.nextInt(2000) + "]},";
                return file(base, "{" + entry + text.substring(1));
            }
        },
        /** Arrays or objects nested very deep, at the top or inside an entry. */
        DEEP_NESTING {
            @Override
            byte[] apply(Base base, Random r) {
                int depth = 1 + r.nextInt(r.nextBoolean() ? 200 : 20_000);
                boolean arrays = r.nextBoolean();
                StringBuilder deep = new StringBuilder();
                for (int k = 0; k < depth; k++) {
                    deep.append(arrays ? "[" : "{\"a\":");
                }
                deep.append("1");
                for (int k = 0; k < depth; k++) {
                    deep.append(arrays ? "]" : "}");
                }
                String text = base.headerText();
                return file(base, r.nextBoolean()
                        ? "{\"nested\":" + deep + "," + text.substring(1)
                        : text.replaceFirst("\"shape\":", "\"shape\":" + Matcher.quoteReplacement(deep.toString()) + ",\"x\":"));
            }
        },
        /** Control characters, escapes and non-ASCII text in names and strings. */
        ODD_STRINGS {
            @Override
            byte[] apply(Base base, Random r) {
                String[] odd = {"\\u0000", "\\ud800", "\u00e9", "\u0000", "\n", "\\\"", "\\", "\uFFFF", "\uD83D\uDE00", "\\x41"};
                String text = base.headerText();
                int at = text.indexOf('"', r.nextInt(text.length()));
                if (at < 0) {
                    return file(base, text);
                }
                return file(base, text.substring(0, at + 1) + odd[r.nextInt(odd.length)] + text.substring(at + 1));
            }
        };

        abstract byte[] apply(Base base, Random r);

        private static final Pattern NUMBER = Pattern.compile("-?\\d+");

        static List<int[]> numbers(String text) {
            List<int[]> out = new ArrayList<>();
            Matcher m = NUMBER.matcher(text);
            while (m.find()) {
                out.add(new int[] {m.start(), m.end()});
            }
            return out;
        }

        static ObjectNode parse(Base base) {
            return (ObjectNode) SafetensorsImage.JSON.readTree(base.header);
        }

        static JsonNode randomValue(Random r, int depth) {
            JsonNodeFactory f = JsonNodeFactory.instance;
            return switch (r.nextInt(depth > 0 ? 10 : 7)) {
                case 0 -> f.nullNode();
                case 1 -> f.booleanNode(r.nextBoolean());
                case 2 -> f.numberNode(r.nextLong());
                case 3 -> f.numberNode(r.nextDouble() * 1e10 - 5e9);
                case 4 -> f.numberNode(new BigInteger(100, r));
                case 5 -> f.stringNode(Long.toString(r.nextInt(1000)));
                case 6 -> f.stringNode("F32");
                case 7 -> {
                    var a = f.arrayNode();
                    for (int k = r.nextInt(4); k > 0; k--) {
                        a.add(randomValue(r, depth - 1));
                    }
                    yield a;
                }
                case 8 -> {
                    var a = f.arrayNode();
                    for (int k = r.nextInt(4); k > 0; k--) {
                        a.add(r.nextInt(100) - 10);
                    }
                    yield a;
                }
                default -> {
                    var o = f.objectNode();
                    for (int k = r.nextInt(3); k > 0; k--) {
                        o.set(List.of("dtype", "shape", "data_offsets", "x").get(r.nextInt(4)), randomValue(r, depth - 1));
                    }
                    yield o;
                }
            };
        }

        /** A mutated header with its true length, before the base's data. */
        static byte[] file(Base base, String header) {
            return file(base, header.getBytes(StandardCharsets.UTF_8));
        }

        static byte[] file(Base base, byte[] header) {
            return file(header.length, header, base.data);
        }

        static byte[] file(long headerLength, byte[] header, byte[] data) {
            ByteBuffer out = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
            return out.putLong(headerLength).put(header).put(data).array();
        }
    }
}
