package com.scratchgpt.bench;

import static com.scratchgpt.bench.Bench.line;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.scratchgpt.Fixtures;
import com.scratchgpt.generation.BatchScheduler;
import com.scratchgpt.model.FormatQuality;
import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.TorchInitializer;
import com.scratchgpt.model.kernel.WeightFormat;
import com.scratchgpt.model.kernel.WeightMatrix;
import com.scratchgpt.tokenizer.GPT2Tokenizer;
import com.scratchgpt.weights.CheckpointLoader;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The engine in each weight format, GPT-2 small (seed 123): decode tokens/s for one stream and for 4, 16 and
 * 32 concurrent streams, prefill tokens/s, resident weight memory, each against the ceilings its JVM measured
 * just before (memory read bandwidth for decoding, GEMM peak); then the quality of bf16 and q8_0
 * against f32 over the reference fixtures (KL divergence of the next-token distribution, greedy agreement).
 *
 * <p>Each format runs in a JVM of its own, as the service holds one format: on Java 17 a format's kernels
 * compile 2-3x slower once another format's ran in the same JVM (docs/BENCHMARKS.md).
 *
 * <p>Run alone with {@code ./mvnw -Pbench verify -Dbench.args=--formats}.
 */
final class FormatBench {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int[] STREAMS = {1, 4, 16, 32};

    private FormatBench() {
    }

    /**
     * One JVM's measurements: {@code java ... FormatBench <format> <reps>} prints them as one JSON line. With a
     * third argument, {@code <streams>}, only that many concurrent greedy streams decode, {@code reps} times after a
     * warm-up, each rate printed as {@code RATE <tokens/s>}: what {@code scripts/streams-ab.sh} compares between
     * two builds, and a steady load to point a profiler at.
     */
    public static void main(String[] args) throws Exception {
        WeightFormat format = WeightFormat.of(args[0]);
        int reps = Integer.parseInt(args[1]);
        GPTConfig cfg = GPTConfig.GPT_CONFIG_124M;
        GPTModel model = TorchInitializer.initialize(cfg, 123, format);
        if (args.length > 2) {
            streams(model, Integer.parseInt(args[2]), reps);
            return;
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("format", format.id());
        out.put("bandwidth", Bench.readBandwidth(reps));
        out.put("gemmPeak", Bench.gemmPeak(reps));
        out.put("residentBytes", model.residentBytes());
        out.put("bytesPerToken", Bench.weightBytesReadPerToken(model));
        for (int prompt : new int[] {128, 512}) {
            out.put("prefill" + prompt, prompt / Bench.bestPrefill(model, prompt, reps));
        }
        int[] prompt4 = new GPT2Tokenizer().encode("Hello, I am");
        try (BatchScheduler scheduler = Bench.decodeScheduler(model)) {
            Bench.generate(scheduler, prompt4, 16); // warm-up
            for (int n : STREAMS) {
                Bench.batchedDecode(scheduler, n, 16); // warm-up at this row count
                double best = 0;
                for (int r = 0; r < (n == 1 ? reps : Math.max(2, reps / 2)); r++) {
                    best = Math.max(best, n == 1 ? oneStream(scheduler, prompt4) : Bench.batchedDecode(scheduler, n, 64));
                }
                out.put("decode" + n, best);
            }
        }
        System.out.println("RESULT " + out);
    }

    private static void streams(GPTModel model, int streams, int reps) {
        try (BatchScheduler scheduler = Bench.decodeScheduler(model)) {
            Bench.batchedDecode(scheduler, streams, 16); // warm-up
            for (int r = 0; r < reps; r++) {
                System.out.printf(Locale.ROOT, "RATE %.2f%n", Bench.batchedDecode(scheduler, streams, 64));
            }
        }
    }

    /** Tokens/s of one greedy stream over 128 new tokens (the first, which follows the prompt, left out). */
    private static double oneStream(BatchScheduler scheduler, int[] prompt) {
        long[] times = Bench.generate(scheduler, prompt, 128);
        return 127 / ((times[127] - times[0]) / 1e9);
    }

    /**
     * Runs every format in a JVM of its own, {@code rounds} times in turn (a noisy moment on the shared machine
     * then spreads over all formats), keeps each format's round with the best single-stream decode, and
     * prints the tables; then the quality comparison here.
     */
    static void run(int reps, int rounds) throws Exception {
        Map<String, JsonNode> results = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (WeightFormat f : WeightFormat.values()) {
                JsonNode r = child(f, reps);
                JsonNode best = results.get(f.id());
                if (best == null || r.get("decode1").asDouble() > best.get("decode1").asDouble()) {
                    results.put(f.id(), r);
                }
            }
        }
        JsonNode f32 = results.get(WeightFormat.F32.id());
        // 2 FLOPs per weight streamed, and float32 streams 4 bytes a weight
        double flopsPerToken = 2.0 * f32.get("bytesPerToken").asDouble() / Float.BYTES;
        double oneF32 = f32.get("decode1").asDouble();

        line("");
        line("Weight formats, GPT-2 small (seed 123), each in a JVM of its own, best of %d rounds taken in turn; each"
                + " round measures its own read bandwidth and GEMM peak just before; %s; %.3f GFLOP of matrix products a"
                + " decoded token", rounds, WeightMatrix.kernelDescription(), flopsPerToken / 1e9);
        line("");
        line("| format | weights held | x f32 | weights read a token | bandwidth | decode ceiling | one stream | of its ceiling"
                + " | x f32 one stream |");
        line("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for (Map.Entry<String, JsonNode> e : results.entrySet()) {
            JsonNode r = e.getValue();
            double ceiling = r.get("bandwidth").asDouble() / r.get("bytesPerToken").asDouble();
            double one = r.get("decode1").asDouble();
            line("| %s | %.1f MB | %.3f | %.1f MB | %.1f GB/s | %.1f tokens/s | %.1f tokens/s | %.2f | %.2f |", e.getKey(),
                    r.get("residentBytes").asDouble() / 1e6, r.get("residentBytes").asDouble() / f32.get("residentBytes").asDouble(),
                    r.get("bytesPerToken").asDouble() / 1e6, r.get("bandwidth").asDouble() / 1e9, ceiling, one, one / ceiling,
                    one / oneF32);
        }
        line("");
        line("Concurrent greedy streams (64 new tokens each after 4-token prompts, tokens/s while all decode); the N-row"
                + " limit is the lower of N x the format's decode ceiling and GEMM peak / %.3f GFLOP:", flopsPerToken / 1e9);
        line("");
        line("| format | streams | aggregate tokens/s | x one f32 stream | x its one stream | N-row limit | of the limit |");
        line("| --- | --- | --- | --- | --- | --- | --- |");
        for (Map.Entry<String, JsonNode> e : results.entrySet()) {
            JsonNode r = e.getValue();
            for (int n : STREAMS) {
                double rate = r.get("decode" + n).asDouble();
                double limit = Math.min(n * r.get("bandwidth").asDouble() / r.get("bytesPerToken").asDouble(),
                        r.get("gemmPeak").asDouble() / flopsPerToken);
                line("| %s | %d | %.1f | %.2f | %.2f | %.0f tokens/s (GEMM peak %.0f GFLOP/s) | %.2f |", e.getKey(), n, rate,
                        rate / oneF32, rate / r.get("decode1").asDouble(), limit, r.get("gemmPeak").asDouble() / 1e9, rate / limit);
            }
        }
        line("");
        line("| format | prefill 128 tokens | prefill 512 tokens | x f32 (128 / 512) |");
        line("| --- | --- | --- | --- |");
        for (Map.Entry<String, JsonNode> e : results.entrySet()) {
            JsonNode r = e.getValue();
            line("| %s | %.0f tokens/s | %.0f tokens/s | %.2f / %.2f |", e.getKey(), r.get("prefill128").asDouble(),
                    r.get("prefill512").asDouble(), r.get("prefill128").asDouble() / f32.get("prefill128").asDouble(),
                    r.get("prefill512").asDouble() / f32.get("prefill512").asDouble());
        }
        quality(GPTConfig.GPT_CONFIG_124M);
    }

    /** One format's measurements in a JVM of its own. */
    private static JsonNode child(WeightFormat format, int reps) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "--add-modules", "jdk.incubator.vector"));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FormatBench.class.getName(), format.id(),
                String.valueOf(reps)));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("the " + format + " run failed:\n" + output);
        }
        String result = output.lines().filter(l -> l.startsWith("RESULT ")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no result from the " + format + " run:\n" + output));
        return JSON.readTree(result.substring("RESULT ".length()));
    }

    /** bf16 and q8_0 against f32 over every fixture: KL of the next-token distribution and greedy agreement. */
    private static void quality(GPTConfig cfg) {
        line("");
        line("Quality against f32 (same weights): KL(f32 || format) of the next-token distribution in nats, and greedy"
                + " agreement, at every position of each fixture's logits batch and every step of its greedy runs:");
        line("");
        line("| fixture | bf16 mean KL | bf16 max KL | bf16 greedy agreement | q8_0 mean KL | q8_0 max KL | q8_0 greedy agreement |");
        line("| --- | --- | --- | --- | --- | --- | --- |");
        String[][] checkpoints = {{"tiny-hf", null}, {"tiny-hf-f16", null}, {"tiny-book", null}, {"tiny-book-qkv-f16", null},
            {"tiny-hf-bf16", null}, {"tiny-hf-prefixed", null}, {"tiny-hf-lm-head-untied", null},
            {"tiny-book-pth", "model.pth"}, {"tiny-book-pth-ctx-len", "model.pth"}, {"tiny-book-pth-bf16", "model.pth"}};
        double[] sum = new double[2];
        double[] max = new double[2];
        int[] agreed = new int[2];
        int[] steps = new int[2];
        List<FormatQuality[]> rows = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String[] c : checkpoints) {
            Path dir = Fixtures.of("tiny-hf").dir().resolveSibling(c[0]);
            Path path = c[1] == null ? dir : dir.resolve(c[1]);
            GPTModel f32 = CheckpointLoader.load(path).model();
            rows.add(FormatQuality.measure(f32, Fixtures.of(c[0]), CheckpointLoader.load(path, WeightFormat.BF16).model(),
                    CheckpointLoader.load(path, WeightFormat.Q8_0).model()).toArray(FormatQuality[]::new));
            names.add(c[0]);
        }
        GPTModel f32 = TorchInitializer.initialize(cfg, 123);
        Fixtures seed123 = Fixtures.of("gpt2-small-seed123");
        rows.add(FormatQuality.measure(f32, seed123, TorchInitializer.initialize(cfg, 123, WeightFormat.BF16),
                TorchInitializer.initialize(cfg, 123, WeightFormat.Q8_0)).toArray(FormatQuality[]::new));
        names.add("gpt2-small-seed123");
        for (int i = 0; i < rows.size(); i++) {
            FormatQuality[] q = rows.get(i);
            line("| %s | %.2e | %.2e | %d / %d | %.2e | %.2e | %d / %d |", names.get(i), q[0].meanKl(), q[0].maxKl(),
                    q[0].agreed(), q[0].steps(), q[1].meanKl(), q[1].maxKl(), q[1].agreed(), q[1].steps());
            for (int f = 0; f < 2; f++) {
                sum[f] += q[f].meanKl() * q[f].steps();
                max[f] = Math.max(max[f], q[f].maxKl());
                agreed[f] += q[f].agreed();
                steps[f] += q[f].steps();
            }
        }
        line("| all fixtures | %.2e | %.2e | %d / %d | %.2e | %.2e | %d / %d |", sum[0] / steps[0], max[0], agreed[0],
                steps[0], sum[1] / steps[1], max[1], agreed[1], steps[1]);
        line("");
        line("Goals: bf16 mean KL <= 5e-4 (%s), q8_0 mean KL <= 2e-3 (%s) over the fixtures", sum[0] / steps[0] <= 5e-4 ? "met" : "missed",
                sum[1] / steps[1] <= 2e-3 ? "met" : "missed");
    }
}
