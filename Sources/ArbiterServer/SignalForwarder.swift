// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Forwards SIGTERM and SIGINT to a server's stop: the first signal stops reading and lets in-flight work finish;
/// a second one exits at once with status 130.
public enum SignalForwarder {
    /// Installs the handlers for one server.
    /// - Parameter server: The server to stop.
    public static func install(for server: Server) {
        forwardDescriptor = server.stopDescriptor
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            signalCount += 1
            if signalCount > 1 { _exit(130) }
            var byte: UInt8 = 1
            _ = write(forwardDescriptor, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
    }
}

nonisolated(unsafe) private var forwardDescriptor: Int32 = -1
nonisolated(unsafe) private var signalCount: Int32 = 0
