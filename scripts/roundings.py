"""PyTorch's float32 -> bfloat16 and float32 -> float16 roundings of a few edge values (ties, subnormals,
overflow), printed as the literal tables of BF16MatrixTest.TORCH_BF16 and Float16Test.TORCH_F16.

    /usr/bin/python3 scripts/roundings.py
"""
import struct

import torch

BITS = [0x3F800000, 0x3F808000, 0x3F818000, 0x40490FDB, 0xC02DF854, 0x000116C2, 0x7F7F0000, 0x7F7FFFFF,
        0x477FE000, 0x477FEFFD, 0x477FF000, 0x38800000, 0x387FC000, 0x33000000, 0x33000001, 0x33800000,
        0x33C00000, 0x80000000, 0x3DCCCCCD, 0x3F802000, 0x3F801000, 0x3F803000, 0x7FC00000, 0xFFC00000]

values = [struct.unpack('<f', struct.pack('<I', b))[0] for b in BITS]
f32 = torch.tensor(values, dtype=torch.float32)
for name, dtype in (('TORCH_BF16', torch.bfloat16), ('TORCH_F16', torch.float16)):
    print(f'{name} (torch {torch.__version__}):')
    for bits, value, half in zip(BITS, values, f32.to(dtype).view(torch.int16).tolist()):
        print(f'    {{0x{bits:08X}, 0x{half & 0xFFFF:04X}}}, // {value!r}')
