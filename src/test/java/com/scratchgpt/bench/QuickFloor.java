package com.scratchgpt.bench;

import static org.bytedeco.openblas.global.openblas_nolapack.*;
import java.util.*;
import org.bytedeco.javacpp.FloatPointer;
import com.scratchgpt.model.*;

public class QuickFloor {
    public static void main(String[] a) {
        GPTModel m = TestModelsAccess.model();
        List<Tensor> ws = new ArrayList<>();
        m.parameters().forEach((k, v) -> { if (v.shape().length == 2 && !k.startsWith("pos")) ws.add(v); });
        // tok_emb is only gathered, not multiplied, unless tied; the separate head is out_head
        ws.removeIf(t -> t == m.parameters().get("tok_emb.weight"));
        Tensor x = Tensor.zeros(1, 3072), y = Tensor.zeros(1, 50257);
        long bytes = ws.stream().mapToLong(t -> t.length() * 4).sum();
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            int n = 20;
            for (int i = 0; i < n; i++) for (Tensor w : ws) {
                int out = (int) w.shape()[0], in = (int) w.shape()[1];
                cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1f, w.at(0), in, x.at(0), 1, 0f, y.at(0), 1);
            }
            double s = (System.nanoTime() - t0) / 1e9 / n;
            System.out.printf("gemv-only pass %.2f ms (%d MB) -> %.1f GB/s, %.1f tok/s floor%n", s * 1e3, bytes >> 20, bytes / s / 1e9, 1 / s);
        }
    }
}
