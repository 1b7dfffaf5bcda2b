package com.scratchgpt.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import com.scratchgpt.model.GPTModel;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;

/**
 * Thousands of mutations of torch.save's own bytes (the vocabulary-10 fixtures of pth-tiny), loaded with
 * {@link CheckpointLoader#load}. Mutations of the whole file keep their CRC-32s, so a load that succeeds must
 * give exactly the base file's parameters (the change hit bytes nothing reads: padding, the version record,
 * the optimizer's storages); mutations of data.pkl alone are written with a fresh CRC-32, so that they reach
 * the unpickler, and may load whatever they hold. Anything but such a load or a {@link CheckpointException}
 * naming the file fails the test: another exception, an OutOfMemoryError, a hang. The seed is fixed, and a
 * failure reports the case number, so a failing case reproduces.
 */
class PthFuzzTest {

    static final long SEED = 0x9717_F022L;
    static final int FILE_CASES = 3000;
    static final int PICKLE_CASES = 3000;
    static final String[] BASES = {"model.pth", "model_and_optimizer.pth", "model-f16.pth"};

    @TempDir
    Path dir;

    private Logger loaderLog;
    private Level loaderLevel;

    @BeforeEach
    void quietLoaderBesideConfig() throws IOException {
        // mutated names make the loader warn about unknown tensors thousands of times
        loaderLog = (Logger) LoggerFactory.getLogger(CheckpointLoader.class);
        loaderLevel = loaderLog.getLevel();
        loaderLog.setLevel(Level.ERROR);
        Files.copy(PthImage.fixture("pth-tiny", "config.json"), dir.resolve("config.json"));
    }

    @AfterEach
    void restoreLoader() {
        loaderLog.setLevel(loaderLevel);
    }

    @Test
    // in a thread of its own, so that a parser stuck in a loop fails the test instead of blocking the build
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void mutatedFilesLoadTheirBasesParametersOrFailWithACheckpointException() throws IOException {
        Random random = new Random(SEED);
        byte[][] bases = new byte[BASES.length][];
        GPTModel[] expected = new GPTModel[BASES.length];
        for (int b = 0; b < BASES.length; b++) {
            bases[b] = Files.readAllBytes(PthImage.fixture("pth-tiny", BASES[b]));
            expected[b] = CheckpointLoader.load(PthImage.fixture("pth-tiny", BASES[b])).model();
        }
        int[] outcomes = new int[2];
        long start = System.nanoTime();
        for (int i = 0; i < FILE_CASES; i++) {
            int b = random.nextInt(bases.length);
            FileMutation mutation = FileMutation.values()[random.nextInt(FileMutation.values().length)];
            Path file = SafetensorsFuzzTest.write(dir.resolve("case-" + i + ".pth"), mutation.apply(bases[b], random));
            GPTModel model = load(file, i, mutation.name());
            if (model != null) {
                PthCheckpointTest.assertSameParameters(model, expected[b]);
            }
            outcomes[model == null ? 1 : 0]++;
            SafetensorsFuzzTest.delete(file);
        }
        report("whole-file", outcomes, start);
        assertThat(outcomes[0]).as("loads").isPositive();
        assertThat(outcomes[1]).as("CheckpointExceptions").isPositive();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void mutatedPicklesEitherLoadOrFailWithACheckpointException() {
        Random random = new Random(SEED);
        PthImage[] bases = new PthImage[BASES.length];
        for (int b = 0; b < BASES.length; b++) {
            bases[b] = PthImage.read(PthImage.fixture("pth-tiny", BASES[b]));
        }
        int[] outcomes = new int[2];
        long start = System.nanoTime();
        for (int i = 0; i < PICKLE_CASES; i++) {
            PthImage base = bases[random.nextInt(bases.length)];
            byte[] original = base.pickle();
            PickleMutation mutation = PickleMutation.values()[random.nextInt(PickleMutation.values().length)];
            Path file = base.withPickle(mutation.apply(original, random)).write(dir.resolve("case-" + i + ".pth"));
            base.withPickle(original);
            outcomes[load(file, i, mutation.name()) == null ? 1 : 0]++;
            SafetensorsFuzzTest.delete(file);
        }
        report("data.pkl", outcomes, start);
        assertThat(outcomes[0]).as("loads").isPositive();
        assertThat(outcomes[1]).as("CheckpointExceptions").isPositive();
    }

    /** The model, or null for a CheckpointException naming the file; anything else fails the test. */
    private static GPTModel load(Path file, int i, String mutation) {
        try {
            return CheckpointLoader.load(file).model();
        } catch (CheckpointException e) {
            assertThat(e.getMessage()).as("case %d (seed %d, %s)", i, SEED, mutation).startsWith(file + ": ")
                    .doesNotContain("\n");
            return null;
        } catch (Throwable t) {
            return fail("CheckpointLoader.load threw something other than a CheckpointException on case " + i
                    + " (seed " + SEED + ", " + mutation + ")", t);
        }
    }

    private static void report(String what, int[] outcomes, long start) {
        LoggerFactory.getLogger(PthFuzzTest.class).info("{} mutations: {} loaded, {} refused, in {} ms", what,
                outcomes[0], outcomes[1], (System.nanoTime() - start) / 1_000_000);
    }

    /** A place to mutate: anywhere, or (half the time) in the last 2 kB, where the central directory lies. */
    static int position(byte[] b, Random r) {
        int tail = Math.min(b.length, 2048);
        return r.nextBoolean() ? r.nextInt(b.length) : b.length - 1 - r.nextInt(tail);
    }

    /** Ways to spoil torch.save's bytes; each returns the bytes of the whole file. */
    enum FileMutation {
        FLIPPED_BITS {
            @Override
            byte[] apply(byte[] base, Random r) {
                byte[] b = base.clone();
                for (int k = 1 + r.nextInt(8); k > 0; k--) {
                    b[position(b, r)] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
        },
        REPLACED_BYTES {
            @Override
            byte[] apply(byte[] base, Random r) {
                byte[] b = base.clone();
                for (int k = 1 + r.nextInt(4); k > 0; k--) {
                    b[position(b, r)] = (byte) r.nextInt(256);
                }
                return b;
            }
        },
        /** A 16-, 32- or 64-bit field overwritten with a size, an offset or a count that means trouble. */
        REPLACED_FIELD {
            @Override
            byte[] apply(byte[] base, Random r) {
                byte[] b = base.clone();
                int width = new int[] {2, 4, 8}[r.nextInt(3)];
                int at = Math.min(position(b, r), b.length - width);
                long[] values = {0, 1, 0xFFFF, 0xFFFFFFFFL, -1, b.length, b.length + 1, b.length - at, 1L << 31,
                    1L << 32, Long.MAX_VALUE, Long.MIN_VALUE, r.nextLong(), r.nextInt(65536)};
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).position(at)
                        .put(Arrays.copyOf(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                                .putLong(values[r.nextInt(values.length)]).array(), width));
                return b;
            }
        },
        TRUNCATED {
            @Override
            byte[] apply(byte[] base, Random r) {
                return Arrays.copyOf(base, r.nextInt(base.length));
            }
        },
        EXTENDED {
            @Override
            byte[] apply(byte[] base, Random r) {
                byte[] b = Arrays.copyOf(base, base.length + 1 + r.nextInt(64));
                for (int i = base.length; i < b.length; i++) {
                    b[i] = (byte) r.nextInt(256);
                }
                return b;
            }
        },
        ZEROED_RANGE {
            @Override
            byte[] apply(byte[] base, Random r) {
                byte[] b = base.clone();
                int from = position(b, r);
                Arrays.fill(b, from, Math.min(b.length, from + 1 + r.nextInt(256)), (byte) 0);
                return b;
            }
        },
        /** A range copied over another: a header where data was, or the reverse. */
        COPIED_RANGE {
            @Override
            byte[] apply(byte[] base, Random r) {
                byte[] b = base.clone();
                int from = r.nextInt(b.length);
                int to = position(b, r);
                int n = Math.min(1 + r.nextInt(128), Math.min(b.length - from, b.length - to));
                System.arraycopy(base, from, b, to, n);
                return b;
            }
        },
        /** Bytes inserted or removed: every offset after them moves. */
        SHIFTED {
            @Override
            byte[] apply(byte[] base, Random r) {
                int at = position(base, r);
                int n = 1 + r.nextInt(16);
                if (r.nextBoolean()) {
                    byte[] b = new byte[base.length + n];
                    System.arraycopy(base, 0, b, 0, at);
                    System.arraycopy(base, at, b, at + n, base.length - at);
                    return b;
                }
                n = Math.min(n, base.length - at);
                byte[] b = new byte[base.length - n];
                System.arraycopy(base, 0, b, 0, at);
                System.arraycopy(base, at + n, b, at, base.length - at - n);
                return b;
            }
        };

        abstract byte[] apply(byte[] base, Random r);
    }

    /** Ways to spoil a pickle; each returns the whole new data.pkl. */
    enum PickleMutation {
        REPLACED_BYTES {
            @Override
            byte[] apply(byte[] p, Random r) {
                byte[] b = p.clone();
                for (int k = 1 + r.nextInt(4); k > 0; k--) {
                    b[r.nextInt(b.length)] = r.nextBoolean() ? (byte) r.nextInt(256) : OPCODES[r.nextInt(OPCODES.length)];
                }
                return b;
            }
        },
        TRUNCATED {
            @Override
            byte[] apply(byte[] p, Random r) {
                return Arrays.copyOf(p, r.nextInt(p.length));
            }
        },
        REMOVED_RANGE {
            @Override
            byte[] apply(byte[] p, Random r) {
                int from = r.nextInt(p.length);
                int to = Math.min(p.length, from + 1 + r.nextInt(r.nextBoolean() ? 8 : 200));
                return concat(Arrays.copyOf(p, from), Arrays.copyOfRange(p, to, p.length));
            }
        },
        /** A slice of the pickle repeated elsewhere in it: a tensor twice, a mark unclosed, a memo index reused. */
        DUPLICATED_RANGE {
            @Override
            byte[] apply(byte[] p, Random r) {
                int from = r.nextInt(p.length);
                byte[] slice = Arrays.copyOfRange(p, from, Math.min(p.length, from + 1 + r.nextInt(300)));
                int at = r.nextInt(p.length);
                return concat(Arrays.copyOf(p, at), slice, Arrays.copyOfRange(p, at, p.length));
            }
        },
        /** A number operand (an index, a size, a storage element count) replaced. */
        REPLACED_NUMBER {
            @Override
            byte[] apply(byte[] p, Random r) {
                byte[] b = p.clone();
                for (int tries = 0; tries < 50; tries++) {
                    int at = r.nextInt(b.length - 1);
                    if (b[at] == 'K' || b[at] == 'h' || b[at] == 'q') {
                        b[at + 1] = (byte) (r.nextBoolean() ? r.nextInt(256) : b[at + 1] + r.nextInt(5) - 2);
                        return b;
                    }
                }
                return b;
            }
        },
        /** Something a hostile or broken writer might put in, inserted anywhere. */
        INSERTED_SNIPPET {
            @Override
            byte[] apply(byte[] p, Random r) {
                byte[][] snippets = {
                    latin1("cos\nsystem\n"), latin1("cbuiltins\neval\n"), latin1("\u008c\u0002os\u008c\u0006system\u0093"),
                    latin1("(".repeat(1 + r.nextInt(5000))), latin1("]".repeat(1 + r.nextInt(5000))),
                    latin1(")".repeat(1 + r.nextInt(5000)) + "t".repeat(r.nextInt(100))),
                    latin1("\u008d\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u007f"), latin1("\u008b\u00ff\u00ff\u00ff\u007f"),
                    latin1("j\u00ff\u00ff\u00ff\u00ff"), latin1("r\u00ff\u00ff\u00ff\u00ff"),
                    latin1("\u0095\u0000\u0000\u0001\u0000\u0000\u0000\u0000\u0000"),
                    latin1("\u0080" + (char) r.nextInt(8)), latin1("\u0081"), latin1("b"), latin1("Q"), latin1("R"), latin1("0"),
                    latin1("1"), latin1("2"), latin1("s"), latin1("u"), latin1("a"), latin1("e"), latin1("."),
                    PickleWriter.protocol(2).tensor(STORAGES[r.nextInt(STORAGES.length)], Integer.toString(r.nextInt(30)),
                            r.nextInt(100) - 5, r.nextInt(50) - 5, new long[] {r.nextInt(12), r.nextInt(6) - 1},
                            new long[] {r.nextInt(6) - 1, r.nextInt(3)}).bytes(),
                    PickleWriter.protocol(2).mark().str("tok_emb.weight").orderedDict().setitems().bytes()};
                byte[] snippet = snippets[r.nextInt(snippets.length)];
                int at = r.nextInt(p.length);
                return concat(Arrays.copyOf(p, at), snippet, Arrays.copyOfRange(p, at, p.length));
            }
        };

        static final byte[] OPCODES = latin1("(0123.NJKMGXCBtl]ae}dsuchqrjRbQ\u0080\u0085\u0086\u0087\u0088\u0089\u008a\u008b"
                + "\u008c\u008d\u008e\u0093\u0094\u0095\u0096\u0081\u0092\u0082Pi");
        static final String[] STORAGES = {"FloatStorage", "HalfStorage", "BFloat16Storage", "BoolStorage",
            "LongStorage", "DoubleStorage", "UntypedStorage"};

        abstract byte[] apply(byte[] pickle, Random r);

        static byte[] latin1(String s) {
            return s.getBytes(StandardCharsets.ISO_8859_1);
        }

        static byte[] concat(byte[]... parts) {
            int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
            ByteBuffer out = ByteBuffer.allocate(n);
            for (byte[] p : parts) {
                out.put(p);
            }
            return out.array();
        }
    }
}
