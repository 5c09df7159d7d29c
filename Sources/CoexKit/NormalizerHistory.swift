import CoexJSON

/// History: chunks, their threads and the media assets of field `history`.
extension ChangeContext {
    func historyValue(_ n: inout Normalizer, _ out: inout [Record]) {
        if let history = value["history"] {
            for item in history.elements {
                guard WebhookRules.checkHistoryItem(item) == nil else { n.counts.badRecords += 1; continue }
                if let errors = item["errors"], errors.isArray {
                    for e in errors.elements {
                        guard WebhookRules.checkError(e) == nil else { n.counts.badRecords += 1; continue }
                        var r = errorRecord(.syncError, e)
                        r.timestamp = entryTime
                        out.append(r)
                    }
                }
                if item["metadata"] != nil { historyChunk(item, &n, &out) }
            }
        }
        // Media assets that resolve placeholders arrive on this field as plain messages.
        let start = out.count
        if let messages = value["messages"] {
            for m in messages.elements {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                let outbound = historyOutbound(m)
                emitMessage(m, origin: .history, direction: outbound ? .outbound : .inbound,
                            user: historyUser(thread: Party(), message: m, outbound: outbound),
                            group: nil, asset: true, n: &n, out: &out)
            }
        }
        if let echoes = value["message_echoes"] {
            for m in echoes.elements {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                emitMessage(m, origin: .history, direction: .outbound,
                            user: chatUser(expected: toSide(m), other: fromSide(m)), group: nil, asset: true,
                            n: &n, out: &out)
            }
        }
        emitContacts(timestamp: latestTimestamp(out, from: start), n: &n, out: &out)
        emitErrors(value["errors"], wamid: nil, timestamp: entryTime, n: &n, out: &out)
    }

    func historyChunk(_ item: JSONValue, _ n: inout Normalizer, _ out: inout [Record]) {
        let metadata = item["metadata"]!
        let phase = Int(metadata["phase"]!.int64!)
        let chunkOrder = Int(metadata["chunk_order"]!.int64!)
        var chunk = record(.historyChunk)
        chunk.phase = phase
        chunk.chunkOrder = chunkOrder
        chunk.progress = Int(metadata["progress"]!.int64!)
        chunk.timestamp = entryTime
        let chunkIndex = out.count
        out.append(chunk)
        var threadCount = 0
        var messageCount = 0
        for (t, thread) in item["threads"]!.elements.enumerated() {
            guard WebhookRules.checkThread(thread) == nil else { n.counts.badRecords += 1; continue }
            threadCount += 1
            let context = thread["context"]
            let user = threadUser(thread)
            for (i, m) in thread["messages"]!.elements.enumerated() {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                messageCount += 1
                let outbound = historyOutbound(m)
                var position = HistoryPosition(phase: phase, chunkOrder: chunkOrder, thread: t, message: i)
                position.username = context?["username"]?.nonEmptyString
                position.countryCode = context?["country_code"]?.nonEmptyString
                emitMessage(m, origin: .history, direction: outbound ? .outbound : .inbound,
                            user: historyUser(thread: user, message: m, outbound: outbound), group: nil,
                            position: position, n: &n, out: &out)
            }
        }
        out[chunkIndex].threadCount = threadCount
        out[chunkIndex].messageCount = messageCount
    }

    /// Where a history message sits, and what its thread's context says of the user.
    struct HistoryPosition {
        var phase: Int
        var chunkOrder: Int
        var thread: Int
        var message: Int
        var username: String?
        var countryCode: String?
    }
}
