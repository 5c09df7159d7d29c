import CoexJSON

// Message content of every type.
extension BusinessStream {
    // MARK: - Content

    func phrase(_ rng: inout Xoshiro256, business: Bool) -> String {
        let list = business ? Vocabulary.businessPhrases : Vocabulary.userPhrases
        return list[rng.below(list.count)]
    }

    func writeText(_ w: inout JSONWriter, _ rng: inout Xoshiro256, business: Bool) {
        scratch.removeAll(keepingCapacity: true)
        let long = rng.chance(0.02)
        let count = long ? rng.int(12...40) : (rng.chance(0.75) ? 1 : rng.int(2...3))
        for i in 0..<count {
            if i > 0 { scratch.append(long && rng.chance(0.2) ? 0x0A : 0x20) }
            scratch.append(contentsOf: phrase(&rng, business: business).utf8)
        }
        scratch.withUnsafeBytes { w.string($0) }
    }

    func writeMediaObject(_ w: inout JSONWriter, _ type: MType, _ rng: inout Xoshiro256, business: Bool) {
        w.beginObject()
        switch type {
        case .image, .video, .document:
            if rng.chance(0.5) {
                w.key("caption"); w.string(Vocabulary.captions[rng.below(Vocabulary.captions.count)])
            }
            if type == .document {
                w.key("filename"); w.string(Vocabulary.fileNames[rng.below(Vocabulary.fileNames.count)])
            }
            w.key("mime_type")
            switch type {
            case .image: w.str(rng.chance(0.8) ? "image/jpeg" : "image/png")
            case .video: w.str("video/mp4")
            default: w.str("application/pdf")
            }
        case .audio:
            w.key("mime_type"); w.str("audio/ogg; codecs=opus")
        default:
            w.key("mime_type"); w.str("image/webp")
        }
        w.key("sha256"); w.hex(&rng, count: 64)
        w.key("id"); w.digits(1_000_000_000_000_000 + rng.below64(8_999_999_999_999_999))
        if rng.chance(0.2) {
            w.key("url")
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=".utf8)
            scratch.append(contentsOf: digitBytes(rng.below64(1_000_000_000_000_000)))
            scratch.withUnsafeBytes { w.string($0) }
        }
        if type == .audio { w.key("voice"); w.bool(rng.chance(0.7)) }
        if type == .sticker { w.key("animated"); w.bool(rng.chance(0.2)) }
        w.endObject()
    }

    /// Writes `"type": T, "T": {...}` (and what else the type carries).
    func writeContent(_ w: inout JSONWriter, _ m: Msg) {
        var r = Xoshiro256(seed: m.seed)
        switch m.type {
        case .text:
            w.key("type"); w.str("text")
            w.key("text"); w.beginObject()
            if !m.fromBusiness && r.chance(0.05) { w.key("preview_url"); w.bool(true) }
            w.key("body"); writeText(&w, &r, business: m.fromBusiness)
            w.endObject()
        case .image: w.key("type"); w.str("image"); w.key("image"); writeMediaObject(&w, .image, &r, business: m.fromBusiness)
        case .video: w.key("type"); w.str("video"); w.key("video"); writeMediaObject(&w, .video, &r, business: m.fromBusiness)
        case .audio: w.key("type"); w.str("audio"); w.key("audio"); writeMediaObject(&w, .audio, &r, business: m.fromBusiness)
        case .document: w.key("type"); w.str("document"); w.key("document"); writeMediaObject(&w, .document, &r, business: m.fromBusiness)
        case .sticker: w.key("type"); w.str("sticker"); w.key("sticker"); writeMediaObject(&w, .sticker, &r, business: m.fromBusiness)
        case .location:
            let place = Vocabulary.places[r.below(Vocabulary.places.count)]
            w.key("type"); w.str("location")
            w.key("location"); w.beginObject()
            w.key("latitude"); w.fixed(r.int64(37_300_000...37_800_000), decimals: 6)
            w.key("longitude"); w.fixed(r.int64(-122_500_000 ... -121_900_000), decimals: 6)
            if !place.name.isEmpty {
                w.key("name"); w.string(place.name)
                w.key("address"); w.string(place.address)
            }
            w.endObject()
        case .contacts:
            let first = Vocabulary.firstNames[r.below(Vocabulary.firstNames.count)]
            let last = Vocabulary.lastNames[r.below(Vocabulary.lastNames.count)]
            let n = 14_155_550_000 + UInt64(r.below(10_000))
            let d = digitBytes(n)
            w.key("type"); w.str("contacts")
            w.key("contacts"); w.beginArray(); w.beginObject()
            w.key("name"); w.beginObject()
            w.key("formatted_name"); w.string(first + " " + last)
            w.key("first_name"); w.string(first)
            w.key("last_name"); w.string(last)
            w.endObject()
            w.key("phones"); w.beginArray(); w.beginObject()
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: "+1 (".utf8); scratch.append(contentsOf: d[1..<4])
            scratch.append(contentsOf: ") ".utf8); scratch.append(contentsOf: d[4..<7])
            scratch.append(UInt8(ascii: "-")); scratch.append(contentsOf: d[7..<11])
            w.key("phone"); scratch.withUnsafeBytes { w.string($0) }
            w.key("type"); w.str("CELL")
            w.key("wa_id"); w.str(d)
            w.endObject(); w.endArray()
            w.endObject(); w.endArray()
        case .interactive:
            w.key("type"); w.str("interactive")
            w.key("interactive"); w.beginObject()
            if r.chance(0.5) {
                let b = Vocabulary.buttonReplies[r.below(Vocabulary.buttonReplies.count)]
                w.key("type"); w.str("button_reply")
                w.key("button_reply"); w.beginObject()
                w.key("id"); w.string(b.id); w.key("title"); w.string(b.title)
                w.endObject()
            } else {
                let l = Vocabulary.listReplies[r.below(Vocabulary.listReplies.count)]
                w.key("type"); w.str("list_reply")
                w.key("list_reply"); w.beginObject()
                w.key("id"); w.string(l.id); w.key("title"); w.string(l.title)
                w.key("description"); w.string(l.description)
                w.endObject()
            }
            w.endObject()
        case .button:
            let b = Vocabulary.buttonTexts[r.below(Vocabulary.buttonTexts.count)]
            w.key("type"); w.str("button")
            w.key("button"); w.beginObject()
            w.key("payload"); w.string(b.payload); w.key("text"); w.string(b.text)
            w.endObject()
        case .reaction:
            w.key("type"); w.str("reaction")
            w.key("reaction"); w.beginObject()
            w.key("message_id")
            if let target = m.reactTo { w.wamid(target) } else { w.wamid(Wamid(phone: 16_505_550_000, id: r.next(), variant: 0, outbound: true)) }
            w.key("emoji"); w.string(Vocabulary.emojis[r.below(Vocabulary.emojis.count)])
            w.endObject()
        case .order:
            w.key("type"); w.str("order")
            w.key("order"); w.beginObject()
            w.key("catalog_id"); w.digits(1_000_000_000_000_000 + r.below64(1_000_000_000_000))
            w.key("text"); w.str("Please deliver before noon")
            w.key("product_items"); w.beginArray()
            for _ in 0..<r.int(1...3) {
                w.beginObject()
                w.key("product_retailer_id"); w.string(Vocabulary.products[r.below(Vocabulary.products.count)])
                w.key("quantity"); w.int(r.int(1...4))
                w.key("item_price"); w.fixed(Int64(r.int(199...9_999)), decimals: 2)
                w.key("currency"); w.str("USD")
                w.endObject()
            }
            w.endArray()
            w.endObject()
        case .unknown:
            // A type coex does not know (yet): valid, kept as a message of that type.
            w.key("type"); w.str("poll")
            w.key("poll"); w.beginObject()
            w.key("question"); w.str("Which day suits you best?")
            w.key("options"); w.beginArray(); w.str("Monday"); w.str("Wednesday"); w.str("Friday"); w.endArray()
            w.key("selectable_count"); w.int(1)
            w.endObject()
        case .unsupported:
            w.key("type"); w.str("unsupported")
            w.key("errors"); w.beginArray(); w.beginObject()
            w.key("code"); w.int(131_060)
            w.key("title"); w.str("This message is unavailable")
            w.key("message"); w.str("This message is unavailable")
            w.key("error_data"); w.beginObject()
            w.key("details"); w.str("Message unavailable. Please check the WhatsApp Business app on your phone.")
            w.endObject()
            w.endObject(); w.endArray()
            if r.chance(0.5) {
                w.key("unsupported"); w.beginObject(); w.key("type"); w.str("unknown"); w.endObject()
            }
        case .placeholder:
            w.key("type"); w.str("media_placeholder")
        }
    }

    func writeReferral(_ w: inout JSONWriter, _ m: Msg) {
        var r = Xoshiro256(seed: m.seed ^ 0xAD)
        w.key("referral"); w.beginObject()
        w.key("source_url"); w.str("https://fb.me/3cr4Wqqkv")
        w.key("source_id"); w.digits(120_200_000_000_000_000 + r.below64(100_000_000_000))
        w.key("source_type"); w.str("ad")
        w.key("headline"); w.str("Spring sale: 30% off")
        w.key("body"); w.str("Tap to chat with us on WhatsApp")
        w.key("media_type"); w.str("image")
        w.key("image_url"); w.str("https://scontent.xx.fbcdn.net/v/t45.1600-4/ad.jpg")
        w.key("ctwa_clid"); w.hex(&r, count: 40)
        w.endObject()
    }

    func writeContext(_ w: inout JSONWriter, _ m: Msg, _ p: Presentation) {
        if m.forwarded {
            w.key("context"); w.beginObject()
            if m.seed & 1 == 0 { w.key("forwarded"); w.bool(true) } else { w.key("frequently_forwarded"); w.bool(true) }
            w.endObject()
        } else if let c = m.context {
            w.key("context"); w.beginObject()
            if m.contextFromBusiness {
                w.key("from"); w.str(phones[users[m.user].phone].display)
            } else if p != .bsuid {
                w.key("from"); w.str(users[m.user].waId)
            }
            w.key("id"); w.wamid(c)
            w.endObject()
        }
    }

    /// A message the user sent (field messages, or history media assets).
    func writeInbound(_ w: inout JSONWriter, _ m: Msg, _ p: Presentation, intTs: Bool) {
        w.beginObject()
        writeContext(&w, m, p)
        writeUserSide(&w, m.user, p, idKey: "from", userKey: "from_user_id")
        w.key("id"); w.wamid(m.wamid)
        w.key("timestamp"); w.timestamp(m.ts, asInt: intTs)
        writeContent(&w, m)
        if m.referral { writeReferral(&w, m) }
        w.endObject()
    }

    /// A message the business sent from the app (smb_message_echoes, or history media assets).
    func writeEcho(_ w: inout JSONWriter, _ m: Msg, _ p: Presentation, intTs: Bool) {
        w.beginObject()
        w.key("from"); w.str(phones[users[m.user].phone].display)
        writeUserSide(&w, m.user, p, idKey: "to", userKey: "to_user_id")
        w.key("id"); w.wamid(m.wamid)
        w.key("timestamp"); w.timestamp(m.ts, asInt: intTs)
        writeContent(&w, m)
        w.endObject()
    }

    func writeChange(_ w: inout JSONWriter, kind: StaticString, edited m: Msg, changeWamid: Wamid,
                             ts: Int64, newSeed: UInt64, p: Presentation, intTs: Bool) {
        w.beginObject()
        if m.fromBusiness {
            w.key("from"); w.str(phones[users[m.user].phone].display)
            writeUserSide(&w, m.user, p, idKey: "to", userKey: "to_user_id")
        } else {
            writeUserSide(&w, m.user, p, idKey: "from", userKey: "from_user_id")
        }
        w.key("id"); w.wamid(changeWamid)
        w.key("timestamp"); w.timestamp(ts, asInt: intTs)
        w.key("type"); w.str(kind)
        w.key(kind); w.beginObject()
        w.key("original_message_id"); w.wamid(m.wamid)
        if kind.utf8CodeUnitCount == 4 {  // "edit"
            var edited = m
            edited.seed = newSeed
            edited.reactTo = nil
            if !(m.type == .text || m.type == .image || m.type == .video || m.type == .document) { edited.type = .text }
            w.key("message"); w.beginObject()
            // A third of the edits quote a message (the one they edit), as the app's reply
            // edits do: the original quoted nothing, its versions must keep it that way. From
            // the seed, not the generator's stream, so that nothing else of a capture moves.
            if newSeed % 3 == 0 { w.key("context"); w.beginObject(); w.key("id"); w.wamid(m.wamid); w.endObject() }
            writeContent(&w, edited)
            w.endObject()
        }
        w.endObject()
        w.endObject()
    }

    func messagesBody(_ msgs: [Msg], at ms: Int64, echo: Bool, presentation forced: Presentation? = nil) -> [UInt8] {
        let phone = users[msgs[0].user].phone
        let intTs = rng.chance(0.03)
        return body(echo ? "smb_message_echoes" : "messages", phone: phone) { w in
            writeMessagesValue(&w, msgs, at: ms, echo: echo, intTs: intTs, forced: forced)
        }
    }

    func writeMessagesValue(_ w: inout JSONWriter, _ msgs: [Msg], at ms: Int64, echo: Bool,
                                    intTs: Bool, forced: Presentation? = nil) {
        if echo {
            w.key("message_echoes"); w.beginArray()
            for m in msgs { writeEcho(&w, m, forced ?? presentation(m.user, ms), intTs: intTs) }
            w.endArray()
        } else {
            w.key("contacts"); w.beginArray()
            var written: [Int] = []
            for m in msgs where !written.contains(m.user) {
                written.append(m.user)
                writeContactItem(&w, m.user, forced ?? presentation(m.user, ms))
            }
            w.endArray()
            w.key("messages"); w.beginArray()
            for m in msgs { writeInbound(&w, m, forced ?? presentation(m.user, ms), intTs: intTs) }
            w.endArray()
        }
    }
}
