/// The public name of a data key: which jurisdiction's master key it derives from, and its number.
///
/// This is what a shard header records; it is not secret and may appear in logs and reports.
public struct DataKeyID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The jurisdiction whose master key the data key derives from (the engine's dense index).
    public var jurisdiction: UInt32
    /// The key's number within that jurisdiction (for example a key epoch or a chat's key slot).
    public var keyID: UInt32

    public init(jurisdiction: UInt32, keyID: UInt32) {
        self.jurisdiction = jurisdiction
        self.keyID = keyID
    }

    public static func < (a: DataKeyID, b: DataKeyID) -> Bool {
        (a.jurisdiction, a.keyID) < (b.jurisdiction, b.keyID)
    }

    public var description: String { "j\(jurisdiction)/k\(keyID)" }
}

/// A 256-bit AES data key with its public id.
///
/// The key material never prints: `description`, `debugDescription` and the reflection mirror
/// (used by `dump` and by `print` of containers) show only the id. There is deliberately no
/// `Codable` conformance, so a key cannot end up in a JSON report by accident.
///
/// **Simulation only.** dcsim derives every key from the run's seed (see ``KeyHierarchy``) so
/// that runs are reproducible. Such keys are not secret and must never protect real data.
public struct DataKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// Key size in bytes (AES-256).
    public static let byteCount = 32

    /// The key's public id (recorded in shard headers).
    public let id: DataKeyID
    /// The material as four words, in memory order (so `withUnsafeBytes` yields the 32 key bytes).
    @usableFromInline var material: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a key from 32 bytes of material.
    /// - Precondition: `bytes.count == 32`.
    public init(id: DataKeyID, bytes: [UInt8]) {
        precondition(bytes.count == DataKey.byteCount, "DataKey needs \(DataKey.byteCount) bytes, got \(bytes.count)")
        self.id = id
        material = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &material) { dst in
            bytes.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
    }

    init(id: DataKeyID, material: (UInt64, UInt64, UInt64, UInt64)) {
        self.id = id
        self.material = material
    }

    /// Calls `body` with the 32 key bytes. The pointer must not escape.
    @inlinable func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBytes(of: material) { body($0) }
    }

    public static func == (a: DataKey, b: DataKey) -> Bool {
        a.id == b.id && a.material == b.material
    }

    public var description: String { "DataKey(\(id), material: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["id": id, "material": "<redacted>"], displayStyle: .struct)
    }
}
