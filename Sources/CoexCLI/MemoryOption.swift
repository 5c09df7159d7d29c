import ArgumentParser
import CoexEngine

/// `--memory 256MB`: the state a stage may hold before it spills to disk.
public struct MemoryOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("Memory for the stage's state before it spills to temporary files (e.g. 256MB, 2GB).",
                           valueName: "SIZE"))
    public var memory: String = "512MB"

    @Option(name: .customLong("temp-dir"), help: ArgumentHelp("Where spill files go (default: $TMPDIR or /tmp).", valueName: "DIR"))
    public var tempDirectory: String?

    public init() {}

    public func validate() throws {
        guard let bytes = parseSize(memory), bytes >= 1 << 20 else {
            throw ValidationError("--memory must be a size of at least 1MB, like 256MB or 2GB (got \(memory))")
        }
        _ = bytes
    }

    public var memoryBytes: Int { parseSize(memory) ?? 256 << 20 }

    /// The budget as the stages' stores take it.
    public var spill: SpillSettings {
        SpillSettings(budget: memoryBytes, temporaryDirectory: temporaryDirectory, label: "--memory \(memory)")
    }

    public var temporaryDirectory: String {
        if let tempDirectory { return tempDirectory }
        if let env = getenv("TMPDIR"), let dir = String(validatingCString: env), !dir.isEmpty { return dir }
        return "/tmp"
    }
}

/// "256MB", "2GB", "64MiB", "1048576" → bytes.
public func parseSize(_ text: String) -> Int? {
    let upper = text.uppercased().replacingOccurrences(of: "IB", with: "B")
    let units: [(String, Int)] = [("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
    for (suffix, factor) in units where upper.hasSuffix(suffix) {
        guard let n = Int(upper.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
        return n.multipliedReportingOverflow(by: factor).overflow ? nil : n * factor
    }
    return Int(upper)
}

import Foundation
