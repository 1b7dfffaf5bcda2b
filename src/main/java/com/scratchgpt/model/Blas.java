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

    private Blas() {
    }

    /**
     * c[m, n] = alpha * a[m, k] · op(b) + beta * c, where op(b) is b[n, k] transposed when
     * {@code transB}, else b[k, n]. lda/ldb/ldc are the row strides.
     */
    static void gemm(int m, int n, int k, float alpha, FloatPointer a, int lda, FloatPointer b, int ldb,
                     boolean transB, float beta, FloatPointer c, int ldc) {
        if (m == 1 && transB) {
            // one row against an [n, k] matrix is a matrix-vector product
            cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, a, 1, beta, c, 1);
        } else if (m == 1) {
            cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a, 1, beta, c, 1);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
    }
}
