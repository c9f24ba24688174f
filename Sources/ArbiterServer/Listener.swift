// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterThreads
import CProcessSpawn
import Foundation

/// Where `arbiter serve --listen` accepts connections: `unix:PATH` or `tcp:HOST:PORT`.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// A Unix-domain socket at a path.
    case unix(path: String)
    /// A TCP address; port 0 picks a free port.
    case tcp(host: String, port: Int)

    /// Parses `unix:PATH`, `tcp:HOST:PORT` or `tcp:[IPv6]:PORT`.
    /// - Parameter text: The address.
    /// - Throws: ``ArbiterError`` `invalid_request` saying what form is expected.
    public init(parsing text: String) throws(ArbiterError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty, path.utf8.count < 108 else {
                throw ArbiterError(.invalidRequest, "unix socket path must be 1 to 107 bytes: '\(text)'")
            }
            self = .unix(path: path)
            return
        }
        guard text.hasPrefix("tcp:"), let colon = text.lastIndex(of: ":"), colon > text.index(text.startIndex, offsetBy: 3)
        else {
            throw ArbiterError(.invalidRequest, "address must be unix:PATH or tcp:HOST:PORT, got '\(text)'")
        }
        var host = String(text[text.index(text.startIndex, offsetBy: 4)..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ArbiterError(.invalidRequest, "address must be tcp:HOST:PORT with a port 0-65535, got '\(text)'")
        }
        self = .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        }
    }
}

/// A bound, listening socket.
final class Listener: Sendable {
    let descriptor: Int32
    let boundAddress: ListenAddress
    private let socketInode: (UInt64, UInt64)?

    init(address: ListenAddress) throws(ArbiterError) {
        switch address {
        case .unix(let path):
            (descriptor, boundAddress) = try Self.bindUnix(path: path)
        case .tcp(let host, let port):
            (descriptor, boundAddress) = try Self.bindTCP(host: host, port: port)
        }
        guard listen(descriptor, 512) == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw ArbiterError(.internal, "cannot listen on \(address): \(message)")
        }
        if case .unix(let path) = address { socketInode = Self.inode(of: path) } else { socketInode = nil }
    }

    /// Starts the accept thread (`arbiter-accept`), which runs ``acceptLoop(stopDescriptor:_:)`` and then `finished`.
    ///
    /// Connections are handed over on that thread, not on the cooperative pool, so a new connection is served at
    /// once even while the workers keep every pool thread busy.
    /// - Parameters:
    ///   - stopDescriptor: Readable once the server stops.
    ///   - accepted: Called on the accept thread with each new connection.
    ///   - finished: Called on the accept thread once the socket is closed.
    /// - Returns: The thread; it detaches itself if the handle is dropped.
    /// - Throws: ``ArbiterError`` `internal` when the system refuses another thread.
    @discardableResult
    func startAccepting(
        stopDescriptor: Int32, _ accepted: @escaping @Sendable (Int32) -> Void,
        finished: @escaping @Sendable () -> Void
    ) throws(ArbiterError) -> BlockingThread {
        try BlockingThread(name: "arbiter-accept") { [self] in
            acceptLoop(stopDescriptor: stopDescriptor, accepted)
            finished()
        }
    }

    /// Accepts connections until the stop descriptor is readable, then closes the socket.
    func acceptLoop(stopDescriptor: Int32, _ accepted: (Int32) -> Void) {
        var descriptors = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&descriptors, 2, -1)
            if ready < 0, errno == EINTR { continue }
            if ready < 0 || descriptors[1].revents != 0 { break }
            // Close-on-exec from the start: a plugin or program spawned meanwhile must not inherit the connection.
            let connection = arbiter_accept_cloexec(descriptor)
            if connection >= 0 {
                configure(connection: connection)
                accepted(connection)
            } else if errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS {
                usleep(50_000)  // out of descriptors: back off instead of spinning on a readable socket
            }
        }
        closeSocket()
    }

    /// Closes the listening socket and removes a Unix socket's file if it is still ours (another daemon may have
    /// replaced it).
    func closeSocket() {
        close(descriptor)
        if case .unix(let path) = boundAddress, let inode = Self.inode(of: path), let mine = socketInode, inode == mine { unlink(path) }
    }

    /// Sets what every accepted connection needs: `TCP_NODELAY` on TCP, so that an answer line goes out at once
    /// instead of waiting for the client's acknowledgement of the previous one (Nagle's algorithm against delayed
    /// acknowledgements costs ~40 ms per round trip).
    func configure(connection: Int32) {
        guard case .tcp = boundAddress else { return }
        var one: Int32 = 1
        setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    private static func inode(of path: String) -> (UInt64, UInt64)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    private static func bindUnix(path: String) throws(ArbiterError) -> (Int32, ListenAddress) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ArbiterError(.internal, "socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (offset, byte) in path.utf8.enumerated() { raw[offset] = byte }
        }
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK {
            // A socket file: replace it only when nobody answers on it (a stale file from a dead daemon).
            let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            let live = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
                }
            }
            close(probe)
            if live {
                close(descriptor)
                throw ArbiterError(.internal, "another process is listening on unix:\(path)")
            }
            unlink(path)
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw ArbiterError(.internal, "cannot bind unix:\(path): \(message)")
        }
        return (descriptor, .unix(path: path))
    }

    private static func bindTCP(host: String, port: Int) throws(ArbiterError) -> (Int32, ListenAddress) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, String(port), &hints, &found)
        guard status == 0, let first = found else {
            throw ArbiterError(.internal, "cannot resolve '\(host)': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ArbiterError(.internal, "socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw ArbiterError(.internal, "cannot bind tcp:\(host):\(port): \(message)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let boundPort = withUnsafeMutablePointer(to: &storage) { pointer -> Int in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(descriptor, $0, &length) }
            if Int32(pointer.pointee.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        return (descriptor, .tcp(host: host, port: boundPort))
    }
}
