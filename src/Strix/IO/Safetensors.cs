using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Strix.IO;

/// <summary>
/// Reads and writes the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
/// little-endian header length, a JSON header mapping each tensor name to dtype, shape and byte
/// range (plus an optional string map <c>__metadata__</c>), then the raw little-endian data.
/// Python tooling (safetensors, transformers) reads our weight files as they are. Writes are atomic.
/// </summary>
public static class Safetensors
{
    /// <summary>Writes <paramref name="tensors"/> (any device; copied to CPU) with string metadata.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.ToList();
        var names = new HashSet<string>();
        foreach (var (name, _) in items)
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved in safetensors");
            if (!names.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}'");
        }
        // Header first: offsets follow the order given.
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        var sizes = new long[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            var t = items[i].Value;
            long bytes = t.numel() * t.ElementSize;
            sizes[i] = bytes;
            header[items[i].Key] = new Dictionary<string, object>
            {
                ["dtype"] = DTypeName(t.dtype),
                ["shape"] = t.shape,
                ["data_offsets"] = new[] { offset, offset + bytes },
            };
            offset += bytes;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            stream.Write(len);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, t) in items)
            {
                using var scope = NewDisposeScope(); // holds detach() and cpu() while the next op reads them
                stream.Write(t.detach().cpu().contiguous().bytes);
            }
        });
    }

    /// <summary>The tensors (on CPU, in file order) and metadata of a safetensors file.</summary>
    public sealed class Contents : IDisposable
    {
        public Contents(List<KeyValuePair<string, Tensor>> tensors, Dictionary<string, string> metadata)
        { Tensors = tensors; Metadata = metadata; }
        public List<KeyValuePair<string, Tensor>> Tensors { get; }
        public Dictionary<string, string> Metadata { get; }
        public Dictionary<string, Tensor> ToDictionary() => Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        public void Dispose() { foreach (var (_, t) in Tensors) t.Dispose(); }
    }

    /// <summary>Reads a safetensors file; malformed files raise <see cref="InvalidDataException"/> naming the file.</summary>
    public static Contents Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: weights file not found", path);
        using var fs = File.OpenRead(path);
        try { return Read(fs, path); }
        catch (Exception e) when (e is JsonException or EndOfStreamException or FormatException or KeyNotFoundException or OverflowException)
        {
            throw new InvalidDataException($"{path}: not a valid safetensors file ({e.Message})", e);
        }
    }

    /// <summary>Reads only the metadata map (cheap: the tensors are not loaded).</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        using var fs = File.OpenRead(path);
        var (header, _) = ReadHeader(fs, path);
        return ParseMetadata(header);
    }

    static Contents Read(Stream s, string path)
    {
        var (root, dataStart) = ReadHeader(s, path);
        long dataLength = s.Length - dataStart;
        var metadata = ParseMetadata(root);
        var entries = new List<(string Name, ScalarType DType, long[] Shape, long Begin, long End)>();
        foreach (var prop in root.EnumerateObject())
        {
            if (prop.Name == "__metadata__") continue;
            var dtype = ParseDType(prop.Value.GetProperty("dtype").GetString()!, path);
            var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            var offs = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0] || offs[1] > dataLength)
                throw new InvalidDataException($"{path}: tensor '{prop.Name}' has byte range [{string.Join(", ", offs)}] outside the {dataLength}-byte data section");
            long expect = shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype);
            if (offs[1] - offs[0] != expect)
                throw new InvalidDataException($"{path}: tensor '{prop.Name}' has {offs[1] - offs[0]} bytes, shape [{string.Join(", ", shape)}] needs {expect}");
            entries.Add((prop.Name, dtype, shape, offs[0], offs[1]));
        }
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                var buf = new byte[e.End - e.Begin];
                s.Position = dataStart + e.Begin;
                s.ReadExactly(buf);
                var t = empty(e.Shape, e.DType);
                t.bytes = buf;
                tensors.Add(new(e.Name, t));
            }
        }
        catch
        {
            foreach (var (_, t) in tensors) t.Dispose();
            throw;
        }
        return new Contents(tensors, metadata);
    }

    static (JsonElement Root, long DataStart) ReadHeader(Stream s, string path)
    {
        Span<byte> len = stackalloc byte[8];
        if (s.Length < 8) throw new InvalidDataException($"{path}: too short to be a safetensors file");
        s.ReadExactly(len);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (n == 0 || n > 100_000_000 || (long)n > s.Length - 8)
            throw new InvalidDataException($"{path}: invalid safetensors header length {n}");
        var json = new byte[n];
        s.ReadExactly(json);
        using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(json).TrimEnd());
        return (doc.RootElement.Clone(), 8 + (long)n);
    }

    static Dictionary<string, string> ParseMetadata(JsonElement root)
    {
        var meta = new Dictionary<string, string>();
        if (root.TryGetProperty("__metadata__", out var m))
            foreach (var p in m.EnumerateObject()) meta[p.Name] = p.Value.GetString() ?? "";
        return meta;
    }

    internal static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"dtype {t} has no safetensors name"),
    };

    static ScalarType ParseDType(string name, string path) => name switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"{path}: unsupported safetensors dtype '{name}'"),
    };

    static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
