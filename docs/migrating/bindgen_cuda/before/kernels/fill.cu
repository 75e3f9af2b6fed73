#include "common.cuh"

extern "C" __global__ void fill_f32(float* y, float value, int n) {
    GRID_STRIDE_LOOP(i, n) { y[i] = value; }
}

extern "C" __global__ void fill_u32(unsigned* y, unsigned value, int n) {
    GRID_STRIDE_LOOP(i, n) { y[i] = value; }
}
