import CoexKit

/// The compact binary form of a record inside the stages' stores (memory and spill
/// files): written once when a store takes a record, read once when it gives it back.
/// Not a file format: it never leaves one run of one process.
///
/// Layout: kind, flags (history_asset, revoked, pending, direction, origin), a 64-bit
/// mask of the optional members present, then waba_id, source, line and the present
/// members in a fixed order; strings and raw JSON as a varint length and the bytes,
/// integers as zigzag varints.
public enum RecordCodec {
    public static func encode(_ r: Record, into out: inout [UInt8]) {
        out.append(UInt8(r.kind.ordinal))
        var flags: UInt8 = 0
        if r.historyAsset { flags |= 1 }
        if r.revoked { flags |= 2 }
        if r.pending { flags |= 4 }
        switch r.direction {
        case .inbound: flags |= 8
        case .outbound: flags |= 16
        case nil: break
        }
        switch r.origin {
        case .history: flags |= 32
        case .live: flags |= 64
        case .echo: flags |= 128
        case nil: break
        }
        out.append(flags)
        let maskAt = out.count
        out.append(contentsOf: repeatElement(0, count: 8))
        var e = Encoder(mask: 0)
        e.string(r.wabaID, &out)
        e.string(r.source, &out)
        e.varint(zigzag(Int64(r.line)), &out)
        e.optional(r.phoneNumberID, 0, &out)
        e.optional(r.displayPhoneNumber, 1, &out)
        e.optional(r.wamid, 2, &out)
        e.optional(r.originalMessageID, 3, &out)
        e.optional(r.contactWaID, 4, &out)
        e.optional(r.contactUserID, 5, &out)
        e.optional(r.username, 6, &out)
        e.optional(r.countryCode, 7, &out)
        e.optional(r.type, 8, &out)
        e.optional(r.body, 9, &out)
        e.optional(r.status, 10, &out)
        e.optional(r.replyTo, 11, &out)
        e.optional(r.recipientID, 12, &out)
        e.optional(r.recipientUserID, 13, &out)
        e.optional(r.action, 14, &out)
        e.optional(r.fullName, 15, &out)
        e.optional(r.firstName, 16, &out)
        e.optional(r.profileName, 17, &out)
        e.optional(r.event, 18, &out)
        e.optional(r.reason, 19, &out)
        e.optional(r.initiatedBy, 20, &out)
        e.optional(r.ownerBusinessID, 21, &out)
        e.optional(r.entryID, 22, &out)
        e.optional(r.phoneNumber, 23, &out)
        e.optional(r.title, 24, &out)
        e.optional(r.message, 25, &out)
        e.optional(r.details, 26, &out)
        e.optional(r.previousUserID, 27, &out)
        e.optional(r.groupID, 28, &out)
        e.optional(r.editWamid, 29, &out)
        e.optional(r.timestamp, 30, &out)
        e.optional(r.phase.map(Int64.init), 31, &out)
        e.optional(r.chunkOrder.map(Int64.init), 32, &out)
        e.optional(r.threadIndex.map(Int64.init), 33, &out)
        e.optional(r.messageIndex.map(Int64.init), 34, &out)
        e.optional(r.progress.map(Int64.init), 35, &out)
        e.optional(r.threadCount.map(Int64.init), 36, &out)
        e.optional(r.messageCount.map(Int64.init), 37, &out)
        e.optional(r.code, 38, &out)
        e.optional(r.arrival.map(Int64.init), 39, &out)
        e.optional(r.seq.map(Int64.init), 40, &out)
        e.optional(r.editCount.map(Int64.init), 41, &out)
        e.optional(r.revokedAt, 42, &out)
        e.optional(r.version.map(Int64.init), 43, &out)
        e.optional(r.content, 44, &out)
        e.optional(r.extra, 45, &out)
        e.optional(r.errors, 46, &out)
        withUnsafeBytes(of: e.mask.littleEndian) { mask in
            for i in 0..<8 { out[maskAt + i] = mask[i] }
        }
    }

    /// The record `encode` wrote; nil when the bytes are not one (a damaged spill file).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Record? {
        var cache = DecodeCache()
        return decode(bytes, cache: &cache)
    }

    /// Strings most records of a store share (the capture a record came from), made once.
    public struct DecodeCache {
        var sourceBytes: [UInt8] = []
        var source = ""
        public init() {}

        mutating func source(_ bytes: UnsafeRawBufferPointer) -> String {
            if !equalBytes(bytes, sourceBytes) {
                sourceBytes = Array(bytes)
                source = String(decoding: bytes, as: UTF8.self)
            }
            return source
        }

        private func equalBytes(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
            a.count == b.count && b.withUnsafeBytes { a.elementsEqual($0) }
        }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, cache: inout DecodeCache) -> Record? {
        guard bytes.count >= 10, Int(bytes[0]) < RecordKind.allCases.count else { return nil }
        let kind = RecordKind.allCases[Int(bytes[0])]
        let flags = bytes[1]
        var mask: UInt64 = 0
        for i in (0..<8).reversed() { mask = mask << 8 | UInt64(bytes[2 + i]) }
        var d = Decoder(bytes: bytes, at: 10, mask: mask)
        guard let waba = d.string(), let sourceBytes = d.span(), let line = d.varint() else { return nil }
        let source = cache.source(sourceBytes)
        var r = Record(kind: kind, wabaID: waba, provenance: Provenance(source: source, line: Int(unzigzag(line))))
        r.historyAsset = flags & 1 != 0
        r.revoked = flags & 2 != 0
        r.pending = flags & 4 != 0
        r.direction = flags & 8 != 0 ? .inbound : flags & 16 != 0 ? .outbound : nil
        r.origin = flags & 32 != 0 ? .history : flags & 64 != 0 ? .live : flags & 128 != 0 ? .echo : nil
        r.phoneNumberID = d.string(0)
        r.displayPhoneNumber = d.string(1)
        r.wamid = d.string(2)
        r.originalMessageID = d.string(3)
        r.contactWaID = d.string(4)
        r.contactUserID = d.string(5)
        r.username = d.string(6)
        r.countryCode = d.string(7)
        r.type = d.string(8)
        r.body = d.string(9)
        r.status = d.string(10)
        r.replyTo = d.string(11)
        r.recipientID = d.string(12)
        r.recipientUserID = d.string(13)
        r.action = d.string(14)
        r.fullName = d.string(15)
        r.firstName = d.string(16)
        r.profileName = d.string(17)
        r.event = d.string(18)
        r.reason = d.string(19)
        r.initiatedBy = d.string(20)
        r.ownerBusinessID = d.string(21)
        r.entryID = d.string(22)
        r.phoneNumber = d.string(23)
        r.title = d.string(24)
        r.message = d.string(25)
        r.details = d.string(26)
        r.previousUserID = d.string(27)
        r.groupID = d.string(28)
        r.editWamid = d.string(29)
        r.timestamp = d.int(30)
        r.phase = d.int(31).map(Int.init)
        r.chunkOrder = d.int(32).map(Int.init)
        r.threadIndex = d.int(33).map(Int.init)
        r.messageIndex = d.int(34).map(Int.init)
        r.progress = d.int(35).map(Int.init)
        r.threadCount = d.int(36).map(Int.init)
        r.messageCount = d.int(37).map(Int.init)
        r.code = d.int(38)
        r.arrival = d.int(39).map(Int.init)
        r.seq = d.int(40).map(Int.init)
        r.editCount = d.int(41).map(Int.init)
        r.revokedAt = d.int(42)
        r.version = d.int(43).map(Int.init)
        r.content = d.raw(44)
        r.extra = d.raw(45)
        r.errors = d.raw(46)
        return d.failed ? nil : r
    }

    @inline(__always) static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    @inline(__always) static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    private struct Encoder {
        var mask: UInt64

        @inline(__always) func varint(_ value: UInt64, _ out: inout [UInt8]) {
            var v = value
            while v >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }

        @inline(__always) func string(_ s: String, _ out: inout [UInt8]) {
            var s = s
            s.withUTF8 { utf8 in
                varint(UInt64(utf8.count), &out)
                out.append(contentsOf: utf8)
            }
        }

        @inline(__always) mutating func optional(_ s: String?, _ bit: Int, _ out: inout [UInt8]) {
            guard let s else { return }
            mask |= 1 << UInt64(bit)
            string(s, &out)
        }

        @inline(__always) mutating func optional(_ v: Int64?, _ bit: Int, _ out: inout [UInt8]) {
            guard let v else { return }
            mask |= 1 << UInt64(bit)
            varint(RecordCodec.zigzag(v), &out)
        }

        @inline(__always) mutating func optional(_ raw: RawJSON?, _ bit: Int, _ out: inout [UInt8]) {
            guard let raw else { return }
            mask |= 1 << UInt64(bit)
            varint(UInt64(raw.bytes.count), &out)
            out.append(contentsOf: raw.bytes)
        }
    }

    private struct Decoder {
        let bytes: UnsafeRawBufferPointer
        var at: Int
        let mask: UInt64
        var failed = false

        init(bytes: UnsafeRawBufferPointer, at: Int, mask: UInt64) {
            self.bytes = bytes
            self.at = at
            self.mask = mask
        }

        @inline(__always) mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while at < bytes.count, shift < 64 {
                let b = bytes[at]
                at += 1
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return value }
                shift += 7
            }
            failed = true
            return nil
        }

        @inline(__always) mutating func span() -> UnsafeRawBufferPointer? {
            guard let n = varint(), n <= UInt64(bytes.count - at) else {
                failed = true
                return nil
            }
            defer { at += Int(n) }
            return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + Int(n))])
        }

        @inline(__always) mutating func string() -> String? {
            span().map { String(decoding: $0, as: UTF8.self) }
        }

        @inline(__always) mutating func string(_ bit: Int) -> String? {
            mask & (1 << UInt64(bit)) == 0 ? nil : string()
        }

        @inline(__always) mutating func int(_ bit: Int) -> Int64? {
            guard mask & (1 << UInt64(bit)) != 0 else { return nil }
            return varint().map(RecordCodec.unzigzag)
        }

        @inline(__always) mutating func raw(_ bit: Int) -> RawJSON? {
            guard mask & (1 << UInt64(bit)) != 0 else { return nil }
            return span().map { RawJSON(Array($0)) }
        }
    }
}
