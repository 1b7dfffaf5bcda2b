package com.scratchgpt.bench;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sasum;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import java.io.File;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import com.scratchgpt.generation.BatchScheduler;
import com.scratchgpt.generation.GenerationObserver;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.Inspection;
import com.scratchgpt.generation.InspectionRequest;
import com.scratchgpt.generation.Sampler;
import com.scratchgpt.generation.SimpleGenerator;
import com.scratchgpt.model.Activations;
import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.KVCache;
import com.scratchgpt.model.KVCachePool;
import com.scratchgpt.model.Linear;
import com.scratchgpt.model.SequenceChunk;
import com.scratchgpt.model.Tensor;
import com.scratchgpt.model.TorchInitializer;
import com.scratchgpt.model.kernel.WeightFormat;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The engine benchmark for GPT-2 small (float32): prefill, decode at batch 1 and batched, time to first
 * token, the seeds' loop, peak RSS; the machine's memory read bandwidth and GEMM peak measured in the
 * same run, each figure as a ratio to its ceiling; and the PyTorch reference with a KV cache side by side.
 *
 * <p>Run: {@code ./mvnw -Pbench verify} (writes target/bench/results.md). Not part of the tests.
 * {@code -Dbench.args=--past-context}: only the cost of steps that recompute a window past the context
 * beside decoding sequences, which chose BatchScheduler.RECOMPUTE_ROWS_IN_COMPANY.
 * {@code -Dbench.args=--inspect} measures POST /inspect's work instead ({@link #inspectMode}); {@code --score} only
 * what scoring a prompt costs ({@link #scoreMode}); {@code --quick} takes fewer repetitions.
 */
public final class Bench {

    static final StringBuilder REPORT = new StringBuilder();

    public static void main(String[] args) throws Exception {
        // the exec plugin passes -Dbench.args as one argument
        List<String> options = Arrays.stream(args).flatMap(a -> Arrays.stream(a.trim().split("\\s+"))).toList();
        boolean quick = options.contains("--quick");
        int reps = quick ? 2 : 5;
        if (options.contains("--inspect")) {
            inspectMode(reps);
            return;
        }
        line("# ScratchGPT benchmark, %s", LocalDateTime.now().withNano(0));
        line("");
        GPTConfig cfg = GPTConfig.GPT_CONFIG_124M;
        line("Machine: %d cores (%s), %s, Java %s, OpenBLAS threads %d, load average %s",
                Runtime.getRuntime().availableProcessors(), cpuModel(), memTotal(), System.getProperty("java.version"),
                org.bytedeco.openblas.global.openblas_nolapack.blas_get_num_threads(), loadAverage());
        long initStart = System.nanoTime();
        GPTModel model = TorchInitializer.initialize(cfg, 123);
        line("GPT-2 small initialised as torch.manual_seed(123) does in %.2f s (the JVM's first model, as at start-up)",
                (System.nanoTime() - initStart) / 1e9);
        if (options.contains("--past-context")) {
            // only the steps past the context: ./mvnw -Pbench verify -Dbench.args=--past-context
            pastContextSteps(model, 7);
            write();
            return;
        }
        double bandwidth = readBandwidth(reps);
        double gemmPeak = gemmPeak(reps);
        line("Memory read bandwidth: %.1f GB/s (OpenBLAS sasum over 1 GiB from 2 threads, best of %d)", bandwidth / 1e9, reps);
        line("GEMM peak: %.0f GFLOP/s (sgemm 512x768 by 768x3072, best of %d)", gemmPeak / 1e9, reps);
        if (options.contains("--formats")) {
            // only the weight formats' tables: ./mvnw -Pbench verify -Dbench.args=--formats
            FormatBench.run(reps, quick ? 1 : 3);
            line("");
            line("Load average after: %s", loadAverage());
            write();
            return;
        }
        if (options.contains("--kernels")) {
            // only the weight kernels' table: ./mvnw -Pbench verify -Dbench.args=--kernels
            KernelBench.productsByFormat(cfg, reps, bandwidth, gemmPeak);
            line("");
            line("Load average after: %s", loadAverage());
            write();
            return;
        }

        if (options.contains("--sampling")) {
            // only the sampler's cost: ./mvnw -Pbench verify -Dbench.args=--sampling
            samplingMode(model, reps);
            line("");
            line("Load average after: %s", loadAverage());
            write();
            return;
        }
        if (options.contains("--score")) {
            // only prompt scoring: ./mvnw -Pbench verify -Dbench.args=--score
            scoreMode(model, reps, gemmPeak);
            line("");
            line("Load average after: %s", loadAverage());
            write();
            return;
        }

        long weightBytes = weightBytesReadPerToken(model);
        double decodeCeiling = bandwidth / weightBytes;
        line("Weights read per decoded token: %.1f MB (blocks and output head) -> decode ceiling %.1f tokens/s",
                weightBytes / 1e6, decodeCeiling);
        line("");
        line("| figure | ScratchGPT | ceiling | ratio to ceiling |");
        line("| --- | --- | --- | --- |");

        Map<String, Double> ours = new LinkedHashMap<>();
        for (int prompt : new int[] {128, 512}) {
            double seconds = bestPrefill(model, prompt, reps);
            double flopsPerToken = flopsPerPromptToken(cfg, prompt);
            ours.put("prefill_tokens_per_s_" + prompt, prompt / seconds);
            line("| prefill, %d-token prompt | %.0f tokens/s | %.0f tokens/s (GEMM peak) | %.2f |", prompt,
                    prompt / seconds, gemmPeak / flopsPerToken, flopsPerToken * prompt / seconds / gemmPeak);
        }

        int[] prompt4 = new GPT2Tokenizer().encode("Hello, I am");
        try (BatchScheduler scheduler = decodeScheduler(model)) {
            generate(scheduler, prompt4, 16); // warm-up
            double best = 0;
            for (int r = 0; r < reps; r++) {
                long[] times = generate(scheduler, prompt4, 128);
                best = Math.max(best, 127 / ((times[127] - times[0]) / 1e9));
            }
            ours.put("decode_tokens_per_s_128", best);
            line("| decode, batch 1, 128 new tokens | %.1f tokens/s | %.1f tokens/s (bandwidth) | %.2f |", best,
                    decodeCeiling, best / decodeCeiling);

            long[] times = generate(scheduler, prompt4, 520);
            double at32 = medianGap(times, 32);
            double at512 = medianGap(times, 512);
            double floor32 = (weightBytes + kvBytes(cfg, 32)) / bandwidth;
            double floor512 = (weightBytes + kvBytes(cfg, 512)) / bandwidth;
            ours.put("decode_ms_at_32", at32 * 1e3);
            ours.put("decode_ms_at_512", at512 * 1e3);
            line("| decode cost at position 32 | %.2f ms | %.2f ms | %.2f |", at32 * 1e3, floor32 * 1e3, floor32 / at32);
            line("| decode cost at position 512 | %.2f ms (%.2fx the 32nd) | %.2f ms | %.2f |", at512 * 1e3, at512 / at32,
                    floor512 * 1e3, floor512 / at512);

            int[] prompt128 = new Random(1).ints(128, 0, 50257).toArray();
            double ttft = Double.MAX_VALUE;
            for (int r = 0; r < reps; r++) {
                long start = System.nanoTime();
                ttft = Math.min(ttft, (generate(scheduler, prompt128, 1)[0] - start) / 1e9);
            }
            ours.put("ttft_ms_128", ttft * 1e3);
            line("| time to first token, 128-token prompt | %.0f ms | | |", ttft * 1e3);

            line("");
            line("Batched decoding: N concurrent greedy streams, 64 new tokens each after 4-token prompts, one scheduler:");
            line("");
            line("| streams | aggregate decode tokens/s | x one stream |");
            line("| --- | --- | --- |");
            double single = 0;
            for (int n : new int[] {1, 4, 16, 32}) {
                double rate = batchedDecode(scheduler, n, 64);
                single = n == 1 ? rate : single;
                line("| %d | %.1f | %.2f |", n, rate, rate / single);
            }
        }
        productsByRowCount(model, reps);
        KernelBench.productsByFormat(cfg, reps, bandwidth, gemmPeak);
        FormatBench.run(reps, quick ? 1 : 3);

        int seedsTokens = quick ? 8 : 32;
        long start = System.nanoTime();
        SimpleGenerator.generateTextSimple(model, new int[][] {prompt4}, seedsTokens, cfg.contextLength());
        double seeds = seedsTokens / ((System.nanoTime() - start) / 1e9);
        ours.put("seeds_loop_tokens_per_s", seeds);
        double rss = peakRssMb();
        ours.put("peak_rss_mb", rss);
        line("");
        line("The seeds' loop (no cache, the whole window every step): %.1f tokens/s over %d tokens", seeds, seedsTokens);
        line("Peak RSS of the benchmark process: %.0f MB (weights %d MB, KV-cache pool %d MB)", rss,
                model.residentBytes() >> 20, kvBytes(cfg, 32 * 640) >> 20);

        pytorchSideBySide(ours, quick);
        write();
    }

    static void write() throws IOException {
        Path out = Path.of("target", "bench", "results.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, REPORT.toString());
        System.out.println("\nwrote " + out);
    }

    /**
     * POST /inspect's work on GPT-2 small, through the scheduler as the endpoint runs it: one inspection of 16, 64 and
     * 128 tokens (all attention, the logit lens at every layer) against the GEMM ceiling of its matrix products, its
     * parts (without the lens; the prompt's forward alone), the answer written as JSON; then the decode rate with
     * nobody inspecting against the bandwidth ceiling, and while another client inspects 128-token prompts back to
     * back. Writes target/bench/inspect.md.
     */
    static void inspectMode(int reps) throws Exception {
        line("# ScratchGPT benchmark: POST /inspect, %s", LocalDateTime.now().withNano(0));
        line("");
        GPTConfig cfg = GPTConfig.GPT_CONFIG_124M;
        GPTModel model = TorchInitializer.initialize(cfg, 123);
        line("Machine: %d cores (%s), %s, Java %s, OpenBLAS threads %d; load average before: %s",
                Runtime.getRuntime().availableProcessors(), cpuModel(), memTotal(), System.getProperty("java.version"),
                org.bytedeco.openblas.global.openblas_nolapack.blas_get_num_threads(), loadAverage());
        double bandwidth = readBandwidth(reps);
        double gemmPeak = gemmPeak(reps);
        double decodeCeiling = bandwidth / weightBytesReadPerToken(model);
        line("Memory read bandwidth %.1f GB/s, GEMM peak %.0f GFLOP/s (best of %d); decode ceiling %.1f tokens/s",
                bandwidth / 1e9, gemmPeak / 1e9, reps, decodeCeiling);
        line("");
        line("| prompt | one inspection | its GEMM ceiling | ratio | without the lens | the prompt's forward | answer as JSON |");
        line("| --- | --- | --- | --- | --- | --- | --- |");
        GPT2Tokenizer tokenizer = new GPT2Tokenizer();
        JsonMapper json = JsonMapper.builder().build();
        int[] all = java.util.stream.IntStream.range(0, cfg.nLayers()).toArray();
        try (BatchScheduler scheduler = new BatchScheduler(model, tokenizer,
                new BatchScheduler.Limits(16, 16, 64, 16 * 1024, 512), GenerationObserver.NONE)) {
            for (int t : new int[] {16, 64, 128}) {
                int[] prompt = new Random(t).ints(t, 0, 50257).toArray();
                InspectionRequest full = new InspectionRequest(prompt, 10, all, true, 1.0, null, null);
                InspectionRequest noLens = new InspectionRequest(prompt, 10, new int[0], false, 1.0, null, null);
                Inspection[] last = new Inspection[1];
                double inspect = bestOf(reps, () -> last[0] = scheduler.inspect(full, TimeUnit.HOURS.toNanos(1)).join());
                double withoutLens = bestOf(reps, () -> scheduler.inspect(noLens, TimeUnit.HOURS.toNanos(1)).join());
                double forward = bestPrefill(model, t, reps);
                double serialise = bestOf(reps, () -> json.writeValueAsBytes(last[0]));
                // the prompt's forward plus the output head at every layer and position: 2 FLOPs a multiply-add
                double flops = flopsPerPromptToken(cfg, t) * t + 2.0 * cfg.nLayers() * t * cfg.embDim() * cfg.vocabSize();
                line("| %d tokens | %.0f ms | %.0f ms | %.2f | %.0f ms | %.0f ms | %.0f ms (%.1f MB) |", t, inspect * 1e3,
                        flops / gemmPeak * 1e3, flops / gemmPeak / inspect, withoutLens * 1e3, forward * 1e3,
                        serialise * 1e3, json.writeValueAsBytes(last[0]).length / 1e6);
            }
            line("");
            int[] prompt4 = tokenizer.encode("Hello, I am");
            generate(scheduler, prompt4, 16); // warm-up
            double alone = 0;
            for (int r = 0; r < reps; r++) {
                long[] times = generate(scheduler, prompt4, 128);
                alone = Math.max(alone, 127 / ((times[127] - times[0]) / 1e9));
            }
            line("| decode, batch 1, 128 new tokens | tokens/s | ratio to the bandwidth ceiling |");
            line("| --- | --- | --- |");
            line("| nobody inspecting | %.1f | %.2f |", alone, alone / decodeCeiling);
            // another client inspects 128-token prompts back to back while this one decodes
            java.util.concurrent.atomic.AtomicBoolean decoding = new java.util.concurrent.atomic.AtomicBoolean(true);
            int[] inspected = {0};
            InspectionRequest busy = new InspectionRequest(new Random(128).ints(128, 0, 50257).toArray(), 10, all, true,
                    1.0, null, null);
            Thread inspector = new Thread(() -> {
                while (decoding.get()) {
                    scheduler.inspect(busy, TimeUnit.HOURS.toNanos(1)).join();
                    inspected[0]++;
                }
            });
            inspector.start();
            long[] times = generate(scheduler, prompt4, 128);
            decoding.set(false);
            inspector.join();
            double shared = 127 / ((times[127] - times[0]) / 1e9);
            line("| another client inspecting 128 tokens back to back (%d inspections) | %.1f | %.2f |", inspected[0],
                    shared, shared / decodeCeiling);
        }
        line("");
        line("Load average after: %s", loadAverage());
        Path out = Path.of("target", "bench", "inspect.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, REPORT.toString());
        System.out.println("\nwrote " + out);
    }

    /**
     * What scoring a prompt costs (/v1/completions with echo and logprobs): the output head over the 511 scored positions
     * of a 512-token step in blocks of 16 to 256 rows against the GEMM ceiling, which chose
     * BatchScheduler.PROMPT_LOGIT_ROWS; then prompts of 128, 512 and 1024 tokens through the scheduler, scored
     * (max_tokens 0, logprobs 1) against read for one new token, which every completion of them pays.
     */
    static void scoreMode(GPTModel model, int reps, double gemmPeak) {
        GPTConfig cfg = model.config();
        int t = 512;
        Activations act = new Activations(cfg, t, 1);
        KVCache cache = new KVCache(cfg, t);
        model.forward(List.of(new SequenceChunk(new Random(t).ints(t, 0, 50257).toArray(), cache)), act);
        double headFlops = 2.0 * cfg.vocabSize() * cfg.embDim() * (t - 1);
        line("");
        line("The output head over the %d scored positions of a %d-token step, by rows a product (best of %d):", t - 1, t, reps);
        line("");
        line("| rows a product | logits held | time | per position | GEMM ceiling | ratio |");
        line("| --- | --- | --- | --- | --- | --- |");
        for (int rows : new int[] {16, 32, 64, 128, 256}) {
            Tensor logits = model.logitLensBuffer(rows);
            double time = bestOf(reps, () -> {
                for (int r = 0; r < t - 1; r += rows) {
                    model.positionLogits(act, 0, r, Math.min(rows, t - 1 - r), logits);
                }
            });
            line("| %d | %.1f MB | %.0f ms | %.2f ms | %.0f ms | %.2f |", rows, logits.length() * 4 / 1e6, time * 1e3,
                    time * 1e3 / (t - 1), headFlops / gemmPeak * 1e3, headFlops / gemmPeak / time);
        }
        line("");
        line("A prompt through the scheduler, read for one new token or scored (echo, logprobs 1, max_tokens 0), best of %d:",
                reps);
        line("");
        line("| prompt | read, one new token | scored | x read | scored: its GEMM ceiling | ratio |");
        line("| --- | --- | --- | --- | --- | --- |");
        try (BatchScheduler scheduler = new BatchScheduler(model, new GPT2Tokenizer(),
                new BatchScheduler.Limits(4, 4, 4, 4 * cfg.contextLength(), 512), GenerationObserver.NONE)) {
            for (int length : new int[] {128, 512, 1024}) {
                int[] prompt = new Random(length).ints(length, 0, 50257).toArray();
                double read = bestOf(reps, () -> scheduler.generate(GenerationRequest.greedy(prompt, 1)));
                double scored = bestOf(reps, () -> scheduler.generate(
                        new GenerationRequest(prompt, 0, 0.0, null, null, null, List.of(), 1, true)));
                // the prompt's positions but the last through the blocks and the output head
                double flops = (flopsPerPromptToken(cfg, length) + 2.0 * cfg.vocabSize() * cfg.embDim()) * (length - 1);
                line("| %d tokens | %.2f s | %.2f s | %.2f | %.2f s | %.2f |", length, read, scored, scored / read,
                        flops / gemmPeak, flops / gemmPeak / scored);
            }
        }
    }

    /** The 1, 5 and 15 minute load averages: the machine is shared, and its neighbours show here. */
    static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }

    /**
     * Weight bytes streamed per decoded token, in the model's format: everything held but the embeddings, of
     * which one row each is read (the token embedding is streamed whole when it is also the output head).
     */
    static long weightBytesReadPerToken(GPTModel model) {
        long embeddings = model.parameters().get("pos_emb.weight").length() * Float.BYTES;
        if (!model.tiedOutputHead()) {
            embeddings += model.weightFormat() == WeightFormat.F32
                    ? model.parameters().get("tok_emb.weight").length() * Float.BYTES
                    : model.convertedParameters().get("tok_emb.weight").residentBytes();
        }
        return model.residentBytes() - embeddings;
    }

    /** Keys and values of every layer for this many positions. */
    static long kvBytes(GPTConfig cfg, int positions) {
        return 2L * cfg.nLayers() * positions * cfg.embDim() * 4;
    }

    /** Matrix-product FLOPs per prompt token: 2 per block weight, plus q k^T and w v (half of them masked). */
    static double flopsPerPromptToken(GPTConfig cfg, int promptLength) {
        double e = cfg.embDim();
        return cfg.nLayers() * (2 * 12 * e * e + 2 * 2 * e * promptLength / 2.0);
    }

    static double bestPrefill(GPTModel model, int prompt, int reps) {
        Activations act = new Activations(model.config(), prompt, 1);
        KVCache cache = new KVCache(model.config(), prompt);
        int[] tokens = new Random(prompt).ints(prompt, 0, 50257).toArray();
        double best = Double.MAX_VALUE;
        for (int r = 0; r <= reps; r++) {
            cache.clear();
            long t = System.nanoTime();
            model.forward(List.of(new SequenceChunk(tokens, cache)), act);
            if (r > 0) { // the first run warms up
                best = Math.min(best, (System.nanoTime() - t) / 1e9);
            }
        }
        return best;
    }

    /**
     * Past the context each new token recomputes the whole window (1024 rows): what a step costs when 4
     * decoding rows carry R of those rows (attending to a full window), against the 4 rows alone, and what
     * a recomputed token then costs in all, in 4-row steps' worth. Rounds over every R, medians.
     */
    static void pastContextSteps(GPTModel model, int rounds) {
        int ctx = model.config().contextLength();
        int[] chunkRows = {0, 16, 32, 64, 128, 512};
        Activations act = new Activations(model.config(), 16 + ctx, 16);
        KVCachePool pool = new KVCachePool(model.config(), 5 * ctx);
        List<KVCache> decoding = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            decoding.add(pool.allocate(ctx));
        }
        KVCache window = pool.allocate(ctx);
        Random random = new Random(1);
        Map<Integer, List<Double>> millis = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (int rows : chunkRows) {
                List<SequenceChunk> chunks = new ArrayList<>();
                for (KVCache cache : decoding) { // each decodes its 201st token
                    cache.clear();
                    model.forward(List.of(new SequenceChunk(random.ints(200, 0, 50257).toArray(), cache)), act);
                    chunks.add(new SequenceChunk(new int[] {random.nextInt(50257)}, cache));
                }
                if (rows > 0) { // the last rows of a window, attending to all of it
                    window.clear();
                    model.forward(List.of(new SequenceChunk(random.ints(ctx - rows, 0, 50257).toArray(), window)), act);
                    chunks.add(new SequenceChunk(random.ints(rows, 0, 50257).toArray(), window));
                }
                long t = System.nanoTime();
                model.forward(chunks, act);
                millis.computeIfAbsent(rows, r -> new ArrayList<>()).add((System.nanoTime() - t) / 1e6);
            }
        }
        line("Steps past the context: 4 decoding rows plus R rows of a recomputed %d-token window, medians of %d:", ctx, rounds);
        line("");
        line("| R | step | x the 4-row step | a recomputed token: steps, in 4-row steps' worth |");
        line("| --- | --- | --- | --- |");
        double alone = median(millis.get(0));
        for (int rows : chunkRows) {
            double step = median(millis.get(rows));
            String token = rows == 0 ? "" : String.format(Locale.ROOT, "%d, %.0f", ctx / rows, ctx / rows * (step - alone) / alone);
            line("| %d | %.1f ms | %.2f | %s |", rows, step, step / alone, token);
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    /** Generates greedily; returns the time each token arrived. */
    static long[] generate(BatchScheduler scheduler, int[] prompt, int n) {
        long[] times = new long[n];
        scheduler.submit(GenerationRequest.greedy(prompt, n), (i, t, s) -> times[i] = System.nanoTime(),
                TimeUnit.HOURS.toNanos(1)).join();
        return times;
    }

    /** Median time between consecutive tokens around this index. */
    static double medianGap(long[] times, int around) {
        double[] gaps = new double[9];
        for (int i = 0; i < gaps.length; i++) {
            int k = around - 4 + i;
            gaps[i] = (times[k] - times[k - 1]) / 1e9;
        }
        Arrays.sort(gaps);
        return gaps[gaps.length / 2];
    }

    /** The scheduler the decode tables run on: up to 32 concurrent sequences of 640 positions each. */
    static BatchScheduler decodeScheduler(GPTModel model) {
        return new BatchScheduler(model, new GPT2Tokenizer(), new BatchScheduler.Limits(32, 32, 64, 32 * 640, 512),
                GenerationObserver.NONE);
    }

    /** Tokens per second over the window where every stream is decoding, greedily. */
    static double batchedDecode(BatchScheduler scheduler, int streams, int tokens) {
        return batchedDecode(scheduler, streams, (prompt, stream) -> GenerationRequest.greedy(prompt, tokens));
    }

    /** The same for the streams' own requests, made from a 4-token prompt and the stream's index. */
    static double batchedDecode(BatchScheduler scheduler, int streams, BiFunction<int[], Integer, GenerationRequest> request) {
        Random random = new Random(streams);
        long[][] times = new long[streams][];
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        for (int s = 0; s < streams; s++) {
            GenerationRequest r = request.apply(random.ints(4, 0, 50257).toArray(), s);
            long[] t = new long[r.maxNewTokens()];
            times[s] = t;
            futures.add(scheduler.submit(r, (i, tok, text) -> t[i] = System.nanoTime(), TimeUnit.HOURS.toNanos(1)));
        }
        futures.forEach(CompletableFuture::join);
        long first = Arrays.stream(times).mapToLong(t -> t[0]).max().orElseThrow();
        long last = Arrays.stream(times).mapToLong(t -> t[t.length - 1]).max().orElseThrow();
        long counted = Arrays.stream(times).mapToLong(t -> Arrays.stream(t).filter(x -> x > first).count()).sum();
        return counted / ((last - first) / 1e9);
    }

    /** Read bandwidth: two threads each summing half of 1 GiB with OpenBLAS (vectorised, memory-bound). */
    static double readBandwidth(int reps) throws InterruptedException {
        long n = 256L * 1024 * 1024;
        Tensor big = Tensor.zeros(n);
        big.array().assign(1.0); // touch every page: untouched ones all map the zero page and read from cache
        double best = 0;
        for (int r = 0; r <= reps; r++) {
            long t = System.nanoTime();
            Thread[] threads = new Thread[2];
            for (int i = 0; i < 2; i++) {
                long offset = i * n / 2;
                threads[i] = new Thread(() -> cblas_sasum((int) (n / 2), big.at(offset), 1));
                threads[i].start();
            }
            for (Thread th : threads) {
                th.join();
            }
            if (r > 0) {
                best = Math.max(best, n * 4 / ((System.nanoTime() - t) / 1e9));
            }
        }
        return best;
    }

    static double gemmPeak(int reps) {
        Tensor a = Tensor.zeros(512, 768);
        Tensor b = Tensor.zeros(3072, 768);
        Tensor c = Tensor.zeros(512, 3072);
        double best = 0;
        for (int r = 0; r <= reps + 1; r++) {
            long t = System.nanoTime();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 512, 3072, 768, 1f, a.at(0), 768, b.at(0), 768, 0f,
                    c.at(0), 3072);
            if (r > 1) {
                best = Math.max(best, 2.0 * 512 * 3072 * 768 / ((System.nanoTime() - t) / 1e9));
            }
        }
        return best;
    }

    /**
     * One pass of every weight-matrix product of a decode step (blocks and output head) for 1 to 32 rows,
     * as {@link Linear} runs decoding rows in f32 (matrix-vector products, row by row) and as plain sgemm on
     * exactly those rows. Decoding N streams together cannot beat N rows / (time of the N-row pass), whatever
     * the rest of the step costs.
     */
    static void productsByRowCount(GPTModel model, int reps) {
        List<Tensor> weights = new ArrayList<>();
        model.parameters().forEach((name, t) -> {
            boolean embedding = name.startsWith("tok_emb") || name.startsWith("pos_emb");
            if (t.shape().length == 2 && (!embedding || model.tiedOutputHead() && name.startsWith("tok_emb"))) {
                weights.add(t);
            }
        });
        int maxRows = 32;
        Tensor x = Tensor.zeros(maxRows, 4L * model.config().embDim());
        Tensor y = Tensor.zeros(maxRows, model.config().vocabSize());
        line("");
        line("Matrix products by row count: every weight matrix of a decode step once (%d products, %.0f MB), best of %d:",
                weights.size(), weights.stream().mapToLong(Tensor::length).sum() * 4 / 1e6, reps);
        line("");
        line("| rows | as served (Linear, row by row) | sgemm on exactly these rows | bound on N-stream decode | x one row |");
        line("| --- | --- | --- | --- | --- |");
        double oneRow = 0;
        for (int rows : new int[] {1, 2, 4, 8, 12, 13, 16, 20, 24, 32}) {
            int m = rows;
            double served = bestOf(reps, () -> weights.forEach(w -> new Linear(w, null).forward(x, y, m)));
            double sgemm = bestOf(reps, () -> weights.forEach(w -> {
                int n = (int) w.shape()[0];
                int k = (int) w.shape()[1];
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1f, x.at(0), k, w.at(0), k, 0f, y.at(0), n);
            }));
            oneRow = rows == 1 ? served : oneRow;
            line("| %d | %.1f ms | %.1f ms | %.0f tokens/s | %.2f |", rows, served * 1e3, sgemm * 1e3, rows / served,
                    rows * oneRow / served);
        }
    }

    /**
     * What sampling costs: one token's {@code Sampler.distribution} over the model's own next-token logits
     * (50,257 of them) with top-k 40, top-k 40 and top-p 0.95, top-p 0.95 alone and no filter, against ranking
     * the whole vocabulary once (what every sampled token cost while top-k sorted it all); then 16 concurrent
     * streams sampling with top-k 40 and with no filter against 16 greedy streams, on the scheduler.
     */
    static void samplingMode(GPTModel model, int reps) {
        int vocab = model.config().vocabSize();
        int[] prompt = new GPT2Tokenizer().encode("Hello, I am");
        FloatBuffer logits = FloatBuffer.wrap(model.forward(new int[][] {prompt}).slice(0).getRow(prompt.length - 1)
                .toFloatVector());
        int perRun = 200;
        line("");
        line("Sampling one token from GPT-2 small's next-token logits (%d of them), best of %d runs of %d tokens:", vocab,
                reps, perRun);
        line("");
        line("| filter | one token | of one full ranking |");
        line("| --- | --- | --- |");
        long[] keys = new long[vocab];
        double ranking = bestOf(reps, () -> {
            for (int t = 0; t < perRun; t++) {
                for (int i = 0; i < vocab; i++) {
                    int bits = Float.floatToIntBits(logits.get(i));
                    keys[i] = ((long) ~(bits ^ ((bits >> 31) & 0x7fffffff)) << 32) | i;
                }
                Arrays.sort(keys);
            }
        }) / perRun;
        Object[][] filters = {{"top-k 40", 40, null}, {"top-k 40, top-p 0.95", 40, 0.95}, {"top-p 0.95", null, 0.95},
            {"none", null, null}};
        for (Object[] f : filters) {
            Sampler sampler = Sampler.of(0.8, (Integer) f[1], (Double) f[2], 1L);
            double one = bestOf(reps, () -> {
                for (int t = 0; t < perRun; t++) {
                    sampler.distribution(logits, 0, vocab);
                }
            }) / perRun;
            line("| %s | %.1f us | %.2f |", f[0], one * 1e6, one / ranking);
        }
        line("| (ranking all %d logits) | %.1f us | 1.00 |", vocab, ranking * 1e6);

        try (BatchScheduler scheduler = decodeScheduler(model)) {
            batchedDecode(scheduler, 16, 16); // warm-up
            double greedy = 0;
            double topK = 0;
            double all = 0;
            for (int r = 0; r < Math.max(2, reps / 2); r++) { // in turns, so that the machine's drift spreads over all
                greedy = Math.max(greedy, batchedDecode(scheduler, 16, 64));
                topK = Math.max(topK, batchedDecode(scheduler, 16, (p, s) -> sampled(p, 40, s)));
                all = Math.max(all, batchedDecode(scheduler, 16, (p, s) -> sampled(p, null, s)));
            }
            line("");
            line("16 concurrent streams, 64 tokens each after 4-token prompts (best of %d in turns):", Math.max(2, reps / 2));
            line("");
            line("| streams sample | tokens/s | of greedy |");
            line("| --- | --- | --- |");
            line("| greedily | %.1f | 1.00 |", greedy);
            line("| at temperature 0.8, top-k 40 | %.1f | %.2f |", topK, topK / greedy);
            line("| at temperature 0.8, every token | %.1f | %.2f |", all, all / greedy);
        }
    }

    /** 64 tokens sampled at temperature 0.8 with this top-k (null: from every token), seeded by the stream's index. */
    private static GenerationRequest sampled(int[] prompt, Integer topK, int stream) {
        return new GenerationRequest(prompt, 64, 0.8, topK, null, (long) stream, List.of(), null);
    }

    /** Best wall time of {@code reps} runs after one warm-up run, in seconds. */
    static double bestOf(int reps, Runnable run) {
        double best = Double.MAX_VALUE;
        for (int r = 0; r <= reps; r++) {
            long t = System.nanoTime();
            run.run();
            if (r > 0) {
                best = Math.min(best, (System.nanoTime() - t) / 1e9);
            }
        }
        return best;
    }

    /** Runs bench/pytorch_reference.py (when Debian's python3-torch is installed) and prints both side by side. */
    static void pytorchSideBySide(Map<String, Double> ours, boolean quick) throws IOException, InterruptedException {
        File script = new File("bench/pytorch_reference.py");
        File json = new File("target/bench/pytorch.json");
        line("");
        if (!new File("/usr/bin/python3").canExecute() || !script.isFile()) {
            line("PyTorch reference: not run (needs /usr/bin/python3 with python3-torch)");
            return;
        }
        Files.createDirectories(json.toPath().getParent());
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", script.getPath(), "--json", json.getPath()));
        if (quick) {
            cmd.add("--quick");
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // without it PyTorch's idle OpenMP workers spin against OpenBLAS's threads on 2 cores, 4-5x slower
        pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0 || !json.isFile()) {
            line("PyTorch reference: failed (apt-get install python3-torch libopenblas0-pthread)%n```%n%s%n```", output.strip());
            return;
        }
        JsonNode torch = JsonMapper.builder().build().readTree(json);
        line("PyTorch %s with a KV cache, same machine, same run (bench/pytorch_reference.py, OMP_WAIT_POLICY=%s):",
                torch.path("torch_version").asString(), pb.environment().get("OMP_WAIT_POLICY"));
        line("");
        line("| figure | ScratchGPT | PyTorch | ScratchGPT advantage |");
        line("| --- | --- | --- | --- |");
        for (Map.Entry<String, Double> e : ours.entrySet()) {
            if (torch.has(e.getKey())) {
                double theirs = torch.get(e.getKey()).asDouble();
                boolean lowerIsBetter = e.getKey().contains("_ms") || e.getKey().contains("rss");
                line("| %s | %.1f | %.1f | %.2fx |", e.getKey(), e.getValue(), theirs,
                        lowerIsBetter ? theirs / e.getValue() : e.getValue() / theirs);
            }
        }
    }

    static String cpuModel() throws IOException {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
    }

    static String memTotal() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " ");
    }

    static double peakRssMb() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM"))
                .findFirst().map(l -> Double.parseDouble(l.replaceAll("[^0-9]", "")) / 1024).orElse(-1.0);
    }

    static void line(String format, Object... args) {
        String s = String.format(Locale.ROOT, format, args);
        System.out.println(s);
        REPORT.append(s).append('\n');
    }
}
