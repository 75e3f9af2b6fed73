#include "common.cuh"

// y = x * mul + add
extern "C" __global__ void affine_f32(const float* x, float* y, float mul, float add, int n) {
    GRID_STRIDE_LOOP(i, n) { y[i] = x[i] * mul + add; }
}
