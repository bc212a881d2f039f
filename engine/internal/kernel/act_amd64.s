//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 bodies of the row kernels in act.go, four entries per iteration,
// over the first len(z) entries (a positive multiple of 4). Each performs the
// Go twin's roundings in the same order: no fused multiply-adds.
//
// Common register use: Y15 = b, Y14 = a, Y13 = 0, Y0 = z, Y1 = z+b, Y2 = b−z,
// Y3 = p = [z+b > 0], Y4 = q = [b−z > 0] (compare mask AND 1.0),
// Y1 = g = max(z+b, 0) − max(b−z, 0) (VMAXPD returns its second source, 0,
// for ±0 and NaN, as pos does), Y5 = p+q, Y3 = p−q.

DATA one<>+0(SB)/8, $1.0
DATA one<>+8(SB)/8, $1.0
DATA one<>+16(SB)/8, $1.0
DATA one<>+24(SB)/8, $1.0
GLOBL one<>(SB), RODATA|NOPTR, $32

#define ACT_AND_SLOPES(zaddr) \
	VMOVUPD zaddr, Y0 \
	VADDPD Y0, Y15, Y1 \
	VSUBPD Y0, Y15, Y2 \
	VCMPPD $0x1e, Y13, Y1, Y3 \
	VCMPPD $0x1e, Y13, Y2, Y4 \
	VANDPD one<>(SB), Y3, Y3 \
	VANDPD one<>(SB), Y4, Y4 \
	VMAXPD Y13, Y1, Y1 \
	VMAXPD Y13, Y2, Y2 \
	VSUBPD Y2, Y1, Y1 \
	VADDPD Y4, Y3, Y5 \
	VSUBPD Y4, Y3, Y3

// LANESUM reduces the four lanes of Y into X, its low half, as (l0+l1)+(l2+l3).
#define LANESUM(Y, X, T) \
	VHADDPD Y, Y, Y \
	VEXTRACTF128 $1, Y, T \
	VADDSD T, X, X

// func accActAVX2(f, z []float64, a, b float64)
// f[k] += a·g
TEXT ·accActAVX2(SB), NOSPLIT, $0-64
	MOVQ f_base+0(FP), DI
	MOVQ z_base+24(FP), SI
	MOVQ z_len+32(FP), CX
	VBROADCASTSD a+48(FP), Y14
	VBROADCASTSD b+56(FP), Y15
	VXORPD Y13, Y13, Y13
	SHLQ $3, CX
	XORQ AX, AX

accloop:
	VMOVUPD (SI)(AX*1), Y0
	VADDPD Y0, Y15, Y1
	VSUBPD Y0, Y15, Y2
	VMAXPD Y13, Y1, Y1
	VMAXPD Y13, Y2, Y2
	VSUBPD Y2, Y1, Y1
	VMULPD Y14, Y1, Y1
	VADDPD (DI)(AX*1), Y1, Y1
	VMOVUPD Y1, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JB   accloop
	VZEROUPPER
	RET

// func backActAVX2(d, z, r []float64, a, b float64) (sg, sdb float64)
// d[k] = (r·a)·(p+q); sg += r·g; sdb += r·(p−q). Y10, Y11: the lane sums.
TEXT ·backActAVX2(SB), NOSPLIT, $0-104
	MOVQ d_base+0(FP), DI
	MOVQ z_base+24(FP), SI
	MOVQ z_len+32(FP), CX
	MOVQ r_base+48(FP), DX
	VBROADCASTSD a+72(FP), Y14
	VBROADCASTSD b+80(FP), Y15
	VXORPD Y13, Y13, Y13
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	SHLQ $3, CX
	XORQ AX, AX

backloop:
	ACT_AND_SLOPES((SI)(AX*1))
	VMOVUPD (DX)(AX*1), Y6
	VMULPD  Y14, Y6, Y7
	VMULPD  Y5, Y7, Y7
	VMOVUPD Y7, (DI)(AX*1)
	VMULPD  Y1, Y6, Y1
	VADDPD  Y1, Y10, Y10
	VMULPD  Y3, Y6, Y3
	VADDPD  Y3, Y11, Y11
	ADDQ $32, AX
	CMPQ AX, CX
	JB   backloop

	LANESUM(Y10, X10, X1)
	VMOVSD X10, sg+88(FP)
	LANESUM(Y11, X11, X1)
	VMOVSD X11, sdb+96(FP)
	VZEROUPPER
	RET

// func jvpActAVX2(jv, z, zv []float64, a, u, b, c float64)
// jv[k] += a·((p+q)·zv + (p−q)·c) + u·g. Y12 = u, Y11 = c.
TEXT ·jvpActAVX2(SB), NOSPLIT, $0-104
	MOVQ jv_base+0(FP), DI
	MOVQ z_base+24(FP), SI
	MOVQ z_len+32(FP), CX
	MOVQ zv_base+48(FP), DX
	VBROADCASTSD a+72(FP), Y14
	VBROADCASTSD u+80(FP), Y12
	VBROADCASTSD b+88(FP), Y15
	VBROADCASTSD c+96(FP), Y11
	VXORPD Y13, Y13, Y13
	SHLQ $3, CX
	XORQ AX, AX

jvploop:
	ACT_AND_SLOPES((SI)(AX*1))
	VMULPD (DX)(AX*1), Y5, Y6
	VMULPD Y11, Y3, Y7
	VADDPD Y7, Y6, Y6
	VMULPD Y14, Y6, Y6
	VMULPD Y12, Y1, Y7
	VADDPD Y7, Y6, Y6
	VADDPD (DI)(AX*1), Y6, Y6
	VMOVUPD Y6, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JB   jvploop
	VZEROUPPER
	RET

// func hvpBackAVX2(back, z, zv, s, r []float64, a, u, b, c float64) (sa, sb float64)
// e = s·a + r·u; back[k] = (p+q)·e; sa += s·g + r·((p+q)·zv + (p−q)·c);
// sb += (p−q)·e. Y12 = u, Y11 = c, Y10 and Y9: the lane sums of sa and sb.
TEXT ·hvpBackAVX2(SB), NOSPLIT, $0-168
	MOVQ back_base+0(FP), DI
	MOVQ z_base+24(FP), SI
	MOVQ z_len+32(FP), CX
	MOVQ zv_base+48(FP), DX
	MOVQ s_base+72(FP), R8
	MOVQ r_base+96(FP), R9
	VBROADCASTSD a+120(FP), Y14
	VBROADCASTSD u+128(FP), Y12
	VBROADCASTSD b+136(FP), Y15
	VBROADCASTSD c+144(FP), Y11
	VXORPD Y13, Y13, Y13
	VXORPD Y10, Y10, Y10
	VXORPD Y9, Y9, Y9
	SHLQ $3, CX
	XORQ AX, AX

hvploop:
	ACT_AND_SLOPES((SI)(AX*1))
	VMOVUPD (R8)(AX*1), Y6
	VMOVUPD (R9)(AX*1), Y7
	VMULPD  Y14, Y6, Y8
	VMULPD  Y12, Y7, Y0
	VADDPD  Y0, Y8, Y8
	VMULPD  Y8, Y5, Y0
	VMOVUPD Y0, (DI)(AX*1)
	VMULPD  Y8, Y3, Y8
	VADDPD  Y8, Y9, Y9
	VMULPD  (DX)(AX*1), Y5, Y0
	VMULPD  Y11, Y3, Y4
	VADDPD  Y4, Y0, Y0
	VMULPD  Y0, Y7, Y0
	VMULPD  Y1, Y6, Y6
	VADDPD  Y0, Y6, Y6
	VADDPD  Y6, Y10, Y10
	ADDQ $32, AX
	CMPQ AX, CX
	JB   hvploop

	LANESUM(Y10, X10, X1)
	VMOVSD X10, sa+152(FP)
	LANESUM(Y9, X9, X1)
	VMOVSD X9, sb+160(FP)
	VZEROUPPER
	RET
