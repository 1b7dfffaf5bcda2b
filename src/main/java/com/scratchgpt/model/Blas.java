package com.scratchgpt.model;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemv;

import org.bytedeco.javacpp.FloatPointer;

/**
 * The two BLAS calls every matrix product of the model goes through (OpenBLAS, the library
 * ND4J's CPU backend is built on). Row-major throughout.
 *
 * <p>Why not {@code INDArray.mmul}: ND4J runs a 1-row product through {@code sgemm}, which on this
 * OpenBLAS is about 8x slower than {@code sgemv}; decoding is nothing but 1-row products.
 */
final class Blas {

    /**
     * Up to this many rows, a product with a weight matrix runs as matrix-vector products instead of
     * sgemm: OpenBLAS's sgemm packs the whole weight matrix for every call, which costs more than
     * reading it from cache once per row while there are few rows. Measured over GPT-2 small's
     * weights (`./mvnw -Pbench verify`, "matrix products by row count"): 12 rows take 41 ms as
     * matrix-vector products against 40 ms for sgemm over 16 rows.
     */
    static final int MAX_GEMV_ROWS = 12;

    /**
     * This OpenBLAS's sgemm is fastest on row counts that are multiples of 16: 12 rows take 76 ms over
     * GPT-2 small's weights, 16 rows 40 ms, 40 rows 88 ms, 48 rows 74 ms. Products with a weight
     * matrix therefore run over {@link #paddedRows} rows when the buffers have room.
     */
    static final int SGEMM_ROW_MULTIPLE = 16;

    /**
     * The weight rows one matrix-vector call covers: while several rows take turns on a block, it is
     * still in cache for all but the first (4 MB or less for GPT-2's widths).
     */
    static final int GEMV_BLOCK = 1024;

    private Blas() {
    }

    /**
     * c[m, n] = alpha * a[m, k] · op(b) + beta * c, where op(b) is b[n, k] transposed when
     * {@code transB}, else b[k, n]. lda/ldb/ldc are the row strides.
     */
    static void gemm(int m, int n, int k, float alpha, FloatPointer a, int lda, FloatPointer b, int ldb,
                     boolean transB, float beta, FloatPointer c, int ldc) {
        if (transB && m <= MAX_GEMV_ROWS) {
            rowByRow(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } else if (m == 1) {
            cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a, 1, beta, c, 1);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
    }

    /**
     * c[m, n] = alpha * a[m, k] · b[n, k]^T + beta * c as matrix-vector products, block by block of b: each
     * row of c is computed by calls that read its own row of a only, so its bits do not depend on the other
     * rows (OpenBLAS's sgemv picks its kernel and threads by the block's shape alone).
     */
    static void rowByRow(int m, int n, int k, float alpha, FloatPointer a, int lda, FloatPointer b, int ldb, float beta,
                         FloatPointer c, int ldc) {
        for (long r0 = 0; r0 < n; r0 += GEMV_BLOCK) {
            int rows = (int) Math.min(GEMV_BLOCK, n - r0);
            FloatPointer block = offset(b, r0 * ldb);
            for (int i = 0; i < m; i++) {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, k, alpha, block, ldb, offset(a, (long) i * lda), 1,
                        beta, offset(c, i * (long) ldc + r0), 1);
            }
        }
    }

    /**
     * The rows to run a product with a weight matrix over when {@code rows} are wanted: as many for
     * matrix-vector products, else rounded up to {@link #SGEMM_ROW_MULTIPLE}. Rows beyond the wanted
     * ones give values nobody reads; each output row depends only on its own input row.
     */
    static int paddedRows(int rows) {
        return rows <= MAX_GEMV_ROWS ? rows : (rows + SGEMM_ROW_MULTIPLE - 1) / SGEMM_ROW_MULTIPLE * SGEMM_ROW_MULTIPLE;
    }

    private static FloatPointer offset(FloatPointer p, long elements) {
        return elements == 0 ? p : new FloatPointer(p).position(p.position() + elements);
    }
}
