// A fused kernel and its C launcher: y = max(a * x + b, 0), what tch computes as
// (x * a + b).relu() in three kernels.
#include <cstdint>
#include <cuda_runtime.h>

__global__ void scale_relu_kernel(const float* x, float* y, float a, float b, int64_t n) {
    int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    if (i < n) y[i] = fmaxf(fmaf(a, x[i], b), 0.0f);
}

// The number of devices the CUDA runtime sees (0 on a machine without a GPU or driver).
extern "C" int ext_device_count(int* count) {
    *count = 0;
    return int(cudaGetDeviceCount(count));
}

extern "C" const char* ext_error_string(int error) {
    return cudaGetErrorString(cudaError_t(error));
}

// x and y are device pointers (a tensor's data_ptr()); runs on the legacy default stream,
// which PyTorch uses unless told otherwise, and waits. Returns a cudaError_t.
extern "C" int ext_scale_relu(const float* x, float* y, float a, float b, int64_t n) {
    if (n <= 0) return 0;
    scale_relu_kernel<<<unsigned((n + 255) / 256), 256>>>(x, y, a, b, n);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    return int(e);
}
