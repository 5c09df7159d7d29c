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
