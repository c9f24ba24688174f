// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import CArbiterSandbox
import Foundation
import Testing

/// The seccomp filter read as a program: every system call number, foreign architectures and the x32 ABI, and the
/// argument checks of clone and socket, evaluated by a small classic-BPF interpreter and compared with the filter's
/// specification written out here. The kernel's own behaviour under the installed filter is tested in
/// IsolationTests (`seccompDenies`); this suite pins what it decides for every call, and how long its paths are.
@Suite("code: the seccomp filter, call by call")
struct SeccompFilterTests {
    struct Instruction {
        var code: UInt16
        var jt: UInt8
        var jf: UInt8
        var k: UInt32
    }

    static let allow: UInt32 = 0x7fff_0000
    static let killProcess: UInt32 = 0x8000_0000
    static func errno(_ value: Int32) -> UInt32 { 0x0005_0000 | UInt32(value) }

    static func filter() throws -> [Instruction] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let length = buffer.withUnsafeMutableBufferPointer { arb_seccomp_filter_bytes($0.baseAddress, $0.count) }
        try #require(length > 0 && length % 8 == 0, "the filter could not be built")
        return stride(from: 0, to: Int(length), by: 8).map { offset in
            Instruction(
                code: UInt16(buffer[offset]) | UInt16(buffer[offset + 1]) << 8, jt: buffer[offset + 2],
                jf: buffer[offset + 3],
                k: UInt32(buffer[offset + 4]) | UInt32(buffer[offset + 5]) << 8 | UInt32(buffer[offset + 6]) << 16
                    | UInt32(buffer[offset + 7]) << 24)
        }
    }

    /// Runs the program on one call as the kernel would: the action returned and the instructions executed, or nil
    /// for an instruction this interpreter (and the filter's design) does not use, or a jump out of the program.
    static func run(_ program: [Instruction], nr: UInt32, arch: UInt32, arg0: UInt32) -> (action: UInt32, steps: Int)? {
        var accumulator: UInt32 = 0
        var pc = 0
        var steps = 0
        while pc < program.count {
            let instruction = program[pc]
            steps += 1
            switch instruction.code {
            case 0x20:  // BPF_LD | BPF_W | BPF_ABS: nr (0), arch (4), the low half of args[0] (16)
                switch instruction.k {
                case 0: accumulator = nr
                case 4: accumulator = arch
                case 16: accumulator = arg0
                default: return nil
                }
            case 0x06: return (instruction.k, steps)  // BPF_RET | BPF_K
            case 0x05: pc += Int(instruction.k)  // BPF_JMP | BPF_JA
            case 0x15, 0x35, 0x25, 0x45:  // JEQ, JGE, JGT, JSET with a constant
                let taken =
                    switch instruction.code {
                    case 0x15: accumulator == instruction.k
                    case 0x35: accumulator >= instruction.k
                    case 0x25: accumulator > instruction.k
                    default: accumulator & instruction.k != 0
                    }
                pc += Int(taken ? instruction.jt : instruction.jf)
            default: return nil
            }
            pc += 1
        }
        return nil
    }

    #if arch(x86_64)
        static let nativeArch: UInt32 = 0xC000_003E  // AUDIT_ARCH_X86_64
        // x86_64 numbers (asm/unistd_64.h): the calls the filter refuses with EPERM, and with ENOSYS.
        static let denied: Set<UInt32> = [
            101, 310, 311, 248, 249, 250, 272, 308, 165, 166, 155, 161, 321, 298, 323, 246, 175, 313, 176, 167, 168, 169,
            163, 179, 103, 312, 303, 304, 153, 320, 430, 431, 432, 433, 428, 429, 442, 172, 173, 134, 212,
        ]
        static let unimplemented: Set<UInt32> = [435, 425, 426, 427]
        static let (clone, socket, socketpair): (UInt32, UInt32, UInt32) = (56, 41, 53)

        /// What the filter must decide for a call of this architecture (the specification, written out).
        static func expected(nr: UInt32, arch: UInt32, arg0: UInt32) -> UInt32 {
            guard arch == nativeArch, nr < 0x4000_0000 else { return killProcess }
            if denied.contains(nr) { return errno(EPERM) }
            if unimplemented.contains(nr) { return errno(ENOSYS) }
            if nr == clone {
                let namespaces: UInt32 = 0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000
                    | 0x2000_0000 | 0x4000_0000  // NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
                return arg0 & namespaces != 0 ? errno(EPERM) : allow
            }
            if nr == socket || nr == socketpair { return arg0 == UInt32(AF_UNIX) ? allow : errno(EAFNOSUPPORT) }
            return allow
        }

        static let arguments: [UInt32] = [
            0, 1, 2, 10, 16, 0x0002_0000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000,
            0x0120_0011, 0x0001_0000, 0x8000_0000, 0xffff_ffff,
        ]
        static let numbers: [UInt32] =
            Array(0..<1100) + stride(from: 0x4000_0000, to: 0x4000_0400, by: 5).map { $0 } + [0x7fff_ffff, 0xffff_ffff]

        @Test("every call number, architecture and argument gets the specified action")
        func matchesTheSpecification() throws {
            let program = try Self.filter()
            var wrong: [String] = []
            for arch in [Self.nativeArch, 0x4000_0003, 0xC000_00B7] {
                for nr in Self.numbers {
                    for arg0 in Self.arguments {
                        let want = Self.expected(nr: nr, arch: arch, arg0: arg0)
                        let got = Self.run(program, nr: nr, arch: arch, arg0: arg0)?.action
                        if got != want { wrong.append("arch \(arch) nr \(nr) arg0 \(arg0): \(String(describing: got))") }
                    }
                }
            }
            #expect(wrong.isEmpty, "\(wrong.count) calls differ, e.g. \(wrong.prefix(5))")
        }

        @Test("a native call runs at most 14 instructions (a search, not a list scanned to its end)")
        func shortPaths() throws {
            let program = try Self.filter()
            var longest = 0
            for nr in Self.numbers.filter({ $0 < 1100 }) {
                for arg0 in Self.arguments {
                    longest = max(longest, Self.run(program, nr: nr, arch: Self.nativeArch, arg0: arg0)?.steps ?? .max)
                }
            }
            // Prologue 5, about log2(50) compares, a leaf of up to four tests and its jump, an argument check.
            #expect(longest <= 14, "longest path: \(longest) instructions")
        }

        @Test("negative control: a filter that lets one denied call through is caught")
        func mutatedFilterIsCaught() throws {
            var program = try Self.filter()
            // Point the first test for keyctl (250) at the next instruction instead of its verdict: keyctl then
            // falls through to the leaf's end (allowed).
            let index = try #require(program.firstIndex { $0.code == 0x15 && $0.k == 250 })
            program[index].jt = 0
            let got = Self.run(program, nr: 250, arch: Self.nativeArch, arg0: 0)?.action
            #expect(got != Self.expected(nr: 250, arch: Self.nativeArch, arg0: 0))
            #expect(Self.expected(nr: 250, arch: Self.nativeArch, arg0: 0) == Self.errno(EPERM))
        }
    #endif
}
