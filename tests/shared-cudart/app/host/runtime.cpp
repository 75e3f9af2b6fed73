// Host-only C++, compiled by nvcc into the same static library as the kernels.
#include <cuda_runtime_api.h>

extern "C" int app_runtime_version(void) {
    int v = 0;
    cudaRuntimeGetVersion(&v);
    return v;
}
