package com.scratchgpt.bench;

import java.util.List;
import com.scratchgpt.model.*;

public class QuickDecode {
    public static void main(String[] a) {
        GPTModel m = TestModelsAccess.model();
        GPTConfig cfg = m.config();
        Activations act = new Activations(cfg, 1024, 1);
        KVCache cache = new KVCache(cfg, 1024);
        for (int rep = 0; rep < 3; rep++) {
            cache.clear();
            long t0 = System.nanoTime();
            m.forward(List.of(new SequenceChunk(new int[512], cache)), act);
            long t1 = System.nanoTime();
            int n = 128;
            for (int i = 0; i < n; i++) m.forward(List.of(new SequenceChunk(new int[] {i}, cache)), act);
            long t2 = System.nanoTime();
            System.out.printf("prefill512 %.1f tok/s, decode %.1f tok/s (%.2f ms/token)%n", 512 / ((t1 - t0) / 1e9), n / ((t2 - t1) / 1e9), (t2 - t1) / 1e6 / n);
        }
    }
}
