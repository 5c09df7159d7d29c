/// The version every coex executable prints for --version.
public let coexVersion: String = "0.8.0"
