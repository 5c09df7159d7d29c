/// Word lists for realistic content. Some entries hold non-ASCII text, quotes, backslashes and
/// newlines on purpose, so that every consumer meets escaping.
enum Vocabulary {
    static let firstNames: [String] = [
        "Sheena", "Marcus", "Aisha", "Liam", "Sofía", "Kenji", "Priya", "Olu", "Zoë", "Mateo",
        "Hannah", "Ravi", "Chloé", "Tomasz", "Amara", "Diego", "Mei", "Jonas", "Fatima", "Noah",
        "Ingrid", "Kwame", "Lucía", "Arjun", "Elif", "Sven", "Nadia", "Bruno", "Yuki", "Grace",
        "Omar", "Leah", "Björn", "Camila", "Hiro", "Ana", "Dmitri", "Ines", "Felix", "Maya",
    ]
    static let lastNames: [String] = [
        "Nelson", "Okafor", "García", "Tanaka", "Müller", "Singh", "Rossi", "Kowalski", "Haddad",
        "Johansson", "Nguyen", "O'Brien", "Dubois", "Mensah", "Pereira", "Ivanova", "Kim", "Walker",
        "Fernández", "Costa", "Yılmaz", "Schmidt", "Chen", "Adeyemi", "Larsen", "Moreau", "Patel",
        "Silva", "Novak", "Cohen",
    ]
    static let profileSuffixes: [String] = ["", "", "", " 🌸", " ✨", " (work)", " 💼", " ☕"]

    static let userPhrases: [String] = [
        "Hi! Is this still available?", "What time do you open tomorrow?", "Thanks!", "👍",
        "Can I change my order?", "Do you deliver to 94301?", "How much is shipping?",
        "I'd like to book a table for 4 at 7pm", "Is the blue one in stock in size M?",
        "ok", "Perfect, see you then", "Where is my package? Tracking says \"in transit\" since Monday",
        "Can you send me the invoice again?", "¿Tienen envío a domicilio?", "Merci beaucoup !",
        "Hallo, ist der Laden am Sonntag geöffnet?", "Obrigado 🙏", "Sure", "lol 😂",
        "My address is:\n123 Main St\nApt 4B", "Could you hold it until Friday?",
        "Do you accept card payments?", "The code THANKS30 didn't work", "Great, thanks a lot!",
        "I sent the payment just now", "Can I pick it up today?", "The file path is C:\\Users\\me\\order.pdf",
        "Is there parking nearby?", "How long does the repair take?", "👋", "Yes please",
        "No, the other one", "What's the price for 2?", "Happy new year! 🎉", "Any discount for students?",
        "I'll be 10 minutes late, sorry", "Can I get a refund?", "こんにちは、予約できますか？",
        "Tab\there", "Received, thank you",
    ]
    static let businessPhrases: [String] = [
        "Here's the info you requested! https://www.meta.com/quest/quest-3/",
        "Thanks for your order! As a thank you, use code THANKS30 to get 30% of your next order.",
        "Hi! Yes, it's still available.", "We open at 9:00 tomorrow.", "Your order has shipped 📦",
        "Sure, no problem!", "Shipping is free over $50.", "See you at 7pm, table for 4 is booked.",
        "We're closed on Sundays, sorry!", "Your appointment is confirmed for Tuesday 10:30.",
        "Could you share your order number?", "The invoice is attached.", "Thank you! 😊",
        "Yes, we accept all major cards.", "Let me check and get back to you.",
        "Your refund has been processed.", "Parking is available behind the store.",
        "The repair takes about 3 days.", "Gracias por su compra", "Happy to help!",
    ]
    static let captions: [String] = [
        "Black Prince echeveria", "Receipt", "Front view", "Here it is", "Before / after",
        "Menu for this week", "Size chart", "Damaged box 😕", "Invoice #4821", "",
    ]
    static let fileNames: [String] = [
        "invoice-2025-0412.pdf", "menu.pdf", "contract_v2.docx", "price list.xlsx", "receipt.pdf",
        "photos.zip", "catálogo_2026.pdf",
    ]
    static let places: [(name: String, address: String)] = [
        ("Philz Coffee", "101 Forest Ave, Palo Alto, CA 94301"),
        ("Main Store", "1 Hacker Way, Menlo Park, CA 94025"),
        ("Warehouse", "500 Terry A Francois Blvd, San Francisco, CA 94158"),
        ("", ""),
    ]
    static let emojis: [String] = ["👍", "❤️", "😂", "😮", "😢", "🙏", "🔥", "👏"]
    static let buttonTexts: [(payload: String, text: String)] = [
        ("CONFIRM_ORDER", "Confirm"), ("CANCEL_ORDER", "Cancel"), ("TALK_TO_AGENT", "Talk to an agent"),
        ("STOP_PROMOS", "Stop promotions"),
    ]
    static let listReplies: [(id: String, title: String, description: String)] = [
        ("slot_morning", "Morning", "9:00 - 12:00"), ("slot_afternoon", "Afternoon", "13:00 - 17:00"),
        ("size_m", "Size M", "Chest 96-101 cm"), ("pickup", "Pick-up in store", "Free"),
    ]
    static let buttonReplies: [(id: String, title: String)] = [
        ("yes", "Yes"), ("no", "No"), ("later", "Remind me later"), ("agent", "Talk to us"),
    ]
    static let products: [String] = ["SKU-1001", "SKU-2044", "SKU-3130", "SKU-0007"]
    static let unknownFieldDetails: [String] = [
        "User requested to stop marketing messages", "User requested to resume marketing messages",
    ]
}
