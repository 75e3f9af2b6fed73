#include "common.cuh"

// c = a + b, grid-stride, scalar loads.
extern "C" __global__ void vector_add(const float* a, const float* b, float* c, unsigned n) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        c[i] = va_add(a[i], b[i]);
    }
}

// c = a + b with 16-byte loads: n4 = n / 4 float4 elements.
extern "C" __global__ void vector_add_vec4(const float4* a, const float4* b, float4* c, unsigned n4) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += gridDim.x * blockDim.x) {
        float4 x = a[i], y = b[i];
        c[i] = make_float4(va_add(x.x, y.x), va_add(x.y, y.y), va_add(x.z, y.z), va_add(x.w, y.w));
    }
}
