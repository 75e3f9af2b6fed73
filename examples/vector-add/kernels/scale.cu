// Does not include common.cuh: editing that header leaves this kernel alone.
extern "C" __global__ void scale(float* x, float s, unsigned n) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= s;
}
