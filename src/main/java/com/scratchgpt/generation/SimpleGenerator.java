package com.scratchgpt.generation;

import java.util.Arrays;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import com.scratchgpt.model.GPTModel;

/**
 * The seeds' {@code generate_text_simple}, as written: every step runs the whole (cropped) window
 * through the model, takes the last position's logits, softmax, argmax, appends. Its cost grows with
 * the square of the length; it is the reference the cached engine ({@link BatchScheduler}) must match.
 */
public final class SimpleGenerator {

    private SimpleGenerator() {
    }

    /** idx (batch, tokens) -> (batch, tokens + maxNewTokens). */
    public static int[][] generateTextSimple(GPTModel model, int[][] idx, int maxNewTokens, int contextSize) {
        int[][] seqs = Arrays.stream(idx).map(int[]::clone).toArray(int[][]::new);
        for (int step = 0; step < maxNewTokens; step++) {
            // idx_cond = idx[:, -context_size:]
            int[][] cond = Arrays.stream(seqs)
                    .map(s -> Arrays.copyOfRange(s, Math.max(0, s.length - contextSize), s.length))
                    .toArray(int[][]::new);
            INDArray logits = model.forward(cond);
            // logits[:, -1, :]; softmax is monotonic, so argmax of probas is argmax of logits
            INDArray last = logits.get(NDArrayIndex.all(), NDArrayIndex.point(logits.size(1) - 1), NDArrayIndex.all());
            INDArray probas = org.nd4j.linalg.ops.transforms.Transforms.softmax(last, true);
            for (int b = 0; b < seqs.length; b++) {
                int next = probas.getRow(b).argMax().getInt(0);
                seqs[b] = Arrays.copyOf(seqs[b], seqs[b].length + 1);
                seqs[b][seqs[b].length - 1] = next;
            }
            // freed now, as PyTorch frees a tensor nobody holds, rather than when the garbage collector finds them:
            // the next step's window then reuses the memory instead of faulting in fresh pages
            logits.close();
            probas.close();
        }
        return seqs;
    }
}
