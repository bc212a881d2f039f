//go:build amd64 && !purego

#include "textflag.h"

// func panelAVX2(a *float64, lda, blocks int, b0, b1, b2 *float64, k int, c *float64, ldc int)
//
// For each of blocks blocks of four rows of a (row stride lda elements), sets
// the 4×3 block c[4i+r][s] (row stride ldc) to Σ_{q<k} a_{4i+r}[q]·b_s[q], for k
// a positive multiple of 4. Y0..Y11 are the twelve 4-lane accumulators
// (r-major), Y12..Y14 hold four elements of the three b rows, Y15 four
// elements of the current a row. Each lane accumulates with fused
// multiply-adds; the lanes reduce as (l0+l1)+(l2+l3).
TEXT ·panelAVX2(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), AX
	MOVQ lda+8(FP), BX
	MOVQ blocks+16(FP), R14
	MOVQ b0+24(FP), SI
	MOVQ b1+32(FP), DI
	MOVQ b2+40(FP), R8
	MOVQ k+48(FP), R9
	MOVQ c+56(FP), R10
	MOVQ ldc+64(FP), R13
	SHLQ $3, BX
	SHLQ $3, R9
	SHLQ $3, R13

block:
	LEAQ (AX)(BX*1), CX
	LEAQ (CX)(BX*1), DX
	LEAQ (DX)(BX*1), R12
	XORQ R11, R11
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

loop:
	VMOVUPD (SI)(R11*1), Y12
	VMOVUPD (DI)(R11*1), Y13
	VMOVUPD (R8)(R11*1), Y14
	VMOVUPD (AX)(R11*1), Y15
	VFMADD231PD Y15, Y12, Y0
	VFMADD231PD Y15, Y13, Y1
	VFMADD231PD Y15, Y14, Y2
	VMOVUPD (CX)(R11*1), Y15
	VFMADD231PD Y15, Y12, Y3
	VFMADD231PD Y15, Y13, Y4
	VFMADD231PD Y15, Y14, Y5
	VMOVUPD (DX)(R11*1), Y15
	VFMADD231PD Y15, Y12, Y6
	VFMADD231PD Y15, Y13, Y7
	VFMADD231PD Y15, Y14, Y8
	VMOVUPD (R12)(R11*1), Y15
	VFMADD231PD Y15, Y12, Y9
	VFMADD231PD Y15, Y13, Y10
	VFMADD231PD Y15, Y14, Y11
	ADDQ $32, R11
	CMPQ R11, R9
	JB   loop

	// Horizontal sums of two accumulators at a time: hadd gives
	// [l0+l1 of Yi, l0+l1 of Yj, l2+l3 of Yi, l2+l3 of Yj]; adding the high
	// half to the low half leaves [sum Yi, sum Yj]. The pairs are
	// (r0s0, r0s1) (r0s2, r1s0) (r1s1, r1s2) (r2s0, r2s1) (r2s2, r3s0) (r3s1, r3s2).
	VHADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VHADDPD Y3, Y2, Y2
	VEXTRACTF128 $1, Y2, X3
	VADDPD X3, X2, X2
	VHADDPD Y5, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPD X5, X4, X4
	VHADDPD Y7, Y6, Y6
	VEXTRACTF128 $1, Y6, X7
	VADDPD X7, X6, X6
	VHADDPD Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPD X9, X8, X8
	VHADDPD Y11, Y10, Y10
	VEXTRACTF128 $1, Y10, X11
	VADDPD X11, X10, X10

	MOVQ    R10, R11
	VMOVUPD X0, (R11)
	VMOVSD  X2, 16(R11)
	ADDQ    R13, R11
	VMOVHPD X2, (R11)
	VMOVUPD X4, 8(R11)
	ADDQ    R13, R11
	VMOVUPD X6, (R11)
	VMOVSD  X8, 16(R11)
	ADDQ    R13, R11
	VMOVHPD X8, (R11)
	VMOVUPD X10, 8(R11)

	LEAQ (R12)(BX*1), AX
	LEAQ (R11)(R13*1), R10
	DECQ R14
	JNZ  block

	VZEROUPPER
	RET
