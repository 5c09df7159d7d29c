import CoexJSON

extension JSONParser {
    /// The JSON value of a line, or nil after appending a reject that says why it is
    /// not JSON (the line's raw bytes kept).
    public func parse(
        line bytes: UnsafeRawBufferPointer, padded: Bool, provenance: Provenance, stage: String,
        rejects: inout [Reject]
    ) -> JSONValue? {
        do {
            return try parse(bytes, padded: padded)
        } catch {
            rejects.append(Reject(provenance: provenance, stage: stage, reason: error.description, raw: Array(bytes)))
            return nil
        }
    }
}

/// A line of spaces, tabs and carriage returns only (or none): it says nothing.
@inlinable public func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
    for byte in bytes where byte != 0x20 && byte != 0x09 && byte != 0x0D { return false }
    return true
}
