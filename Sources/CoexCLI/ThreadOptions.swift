import ArgumentParser

/// `--threads N`: how many workers share each batch of lines.
public struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: one per core, at most 8). Output order never depends on it.")
    public var threads: Int = defaultWorkerCount()

    public init() {}

    public func validate() throws {
        guard threads >= 1 && threads <= 64 else { throw ValidationError("--threads must be between 1 and 64") }
    }

    /// One worker per thread.
    public func workers<W>(_ make: () -> W) -> [W] { (0..<threads).map { _ in make() } }
}
