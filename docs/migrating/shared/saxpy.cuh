// Shared by the kernel and its launcher: editing it must rebuild saxpy.cu.
#pragma once

#define SAXPY_BLOCK 256
