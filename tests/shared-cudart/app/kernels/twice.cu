#include <cuda_runtime.h>

__global__ void twice(float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= 2.0f;
}

// Devices seen (negative: the runtime's error code).
extern "C" int app_device_count(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    return e == cudaSuccess ? n : -int(e);
}

// Doubles x on the device; returns a cudaError_t (0 = success).
extern "C" int app_twice(float* x, int n) {
    float* d = nullptr;
    size_t bytes = size_t(n) * sizeof(float);
    cudaError_t e = cudaMalloc(&d, bytes);
    if (e == cudaSuccess) e = cudaMemcpy(d, x, bytes, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) {
        twice<<<(n + 255) / 256, 256>>>(d, n);
        e = cudaGetLastError();
    }
    if (e == cudaSuccess) e = cudaMemcpy(x, d, bytes, cudaMemcpyDeviceToHost);
    cudaFree(d);
    return int(e);
}
