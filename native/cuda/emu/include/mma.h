// Shadows the CUDA header of the same name in the emulator build (../cuda_emu.h).
#pragma once
#include "../cuda_emu.h"
