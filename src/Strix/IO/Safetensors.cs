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

    /// <summary>A tensor as the header describes it, before its bytes are read.</summary>
    public sealed record TensorInfo(string Name, ScalarType DType, long[] Shape);

    /// <summary>Sees the metadata and the header's tensors before any tensor is read; throws to refuse the file.</summary>
    public delegate void Inspector(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<TensorInfo> tensors);

    /// <summary>
    /// Reads a safetensors file; malformed files raise <see cref="InvalidDataException"/> naming the file.
    /// Every claim of the header is checked before memory is allocated for it (sizes against the file's length, no
    /// overlaps); <paramref name="inspect"/> lets a caller that knows what it expects refuse a file before its data is read.
    /// </summary>
    public static Contents Load(string path, Inspector? inspect = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: weights file not found", path);
        using var fs = File.OpenRead(path);
        return Load(fs, path, inspect);
    }

    /// <summary><see cref="Load(string, Inspector?)"/> from a seekable stream; <paramref name="path"/> names it in errors.</summary>
    internal static Contents Load(Stream stream, string path, Inspector? inspect = null)
    {
        try { return Read(stream, path, inspect); }
        catch (Exception e) when (IsMalformed(e))
        {
            throw new InvalidDataException($"{path}: not a valid safetensors file ({e.Message})", e);
        }
    }

    /// <summary>What reading a damaged header can throw besides our own <see cref="InvalidDataException"/>.</summary>
    static bool IsMalformed(Exception e) =>
        e is JsonException or EndOfStreamException or FormatException or KeyNotFoundException or OverflowException or InvalidOperationException;

    /// <summary>Reads only the metadata map (cheap: the tensors are not loaded).</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: weights file not found", path);
        using var fs = File.OpenRead(path);
        try
        {
            var (header, _) = ReadHeader(fs, path);
            return ParseMetadata(header, path);
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw new InvalidDataException($"{path}: not a valid safetensors file ({e.Message})", e);
        }
    }

    /// <summary>
    /// Reads the bytes of <paramref name="t"/> (a fresh contiguous CPU tensor) straight into its memory: no staging
    /// copy, so loading costs the file's size once. Chunked, as a span holds at most 2 GiB.
    /// </summary>
    static void ReadInto(Stream s, Tensor t)
    {
        long n = t.numel();
        if (n == 0) return;
        long esize = t.element_size(), chunk = Math.Max(1, (1L << 30) / esize);
        if (n * esize <= int.MaxValue) { s.ReadExactly(t.bytes); return; }
        using var flat = t.view(-1);
        for (long off = 0; off < n; off += chunk)
        {
            using var part = flat.narrow(0, off, Math.Min(chunk, n - off));
            s.ReadExactly(part.bytes);
        }
    }

    static Contents Read(Stream s, string path, Inspector? inspect)
    {
        var (root, dataStart) = ReadHeader(s, path);
        long dataLength = s.Length - dataStart;
        var metadata = ParseMetadata(root, path);
        var entries = new List<(string Name, ScalarType DType, long[] Shape, long Begin, long End)>();
        foreach (var prop in root.EnumerateObject())
        {
            if (prop.Name == "__metadata__") continue;
            var v = prop.Value;
            string Bad(string what) => $"{path}: tensor '{prop.Name}' {what}";
            if (v.ValueKind != JsonValueKind.Object) throw new InvalidDataException(Bad("is not a JSON object"));
            if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw new InvalidDataException(Bad("has no dtype string"));
            var dtype = ParseDType(dt.GetString()!, path);
            var shape = Longs(v, "shape", Bad);
            var offs = Longs(v, "data_offsets", Bad);
            if (shape.Any(d => d < 0)) throw new InvalidDataException(Bad($"has a negative size in shape [{string.Join(", ", shape)}]"));
            if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0] || offs[1] > dataLength)
                throw new InvalidDataException(Bad($"has byte range [{string.Join(", ", offs)}] outside the {dataLength}-byte data section"));
            long expect;
            try { expect = checked(shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype)); }
            catch (OverflowException) { throw new InvalidDataException(Bad($"claims shape [{string.Join(", ", shape)}], more bytes than can exist")); }
            if (offs[1] - offs[0] != expect)
                throw new InvalidDataException(Bad($"has {offs[1] - offs[0]} bytes, shape [{string.Join(", ", shape)}] needs {expect}"));
            entries.Add((prop.Name, dtype, shape, offs[0], offs[1]));
        }
        // Byte ranges may not overlap: every byte belongs to one tensor (the format's rule; a file that breaks it is damaged or crafted).
        var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        for (int i = 1; i < ordered.Count; i++)
            if (ordered[i].Begin < ordered[i - 1].End)
                throw new InvalidDataException($"{path}: tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap in the data section");
        inspect?.Invoke(metadata, entries.Select(e => new TensorInfo(e.Name, e.DType, e.Shape)).ToList());
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                var t = empty(e.Shape, e.DType);
                tensors.Add(new(e.Name, t));
                s.Position = dataStart + e.Begin;
                ReadInto(s, t);
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
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: the safetensors header is not a JSON object");
        return (doc.RootElement.Clone(), 8 + (long)n);
    }

    static Dictionary<string, string> ParseMetadata(JsonElement root, string path)
    {
        var meta = new Dictionary<string, string>();
        if (!root.TryGetProperty("__metadata__", out var m)) return meta;
        if (m.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: __metadata__ is not a JSON object");
        foreach (var p in m.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: metadata '{p.Name}' is not a string (the format allows only strings)");
            meta[p.Name] = p.Value.GetString() ?? "";
        }
        return meta;
    }

    static long[] Longs(JsonElement v, string key, Func<string, string> bad)
    {
        if (!v.TryGetProperty(key, out var a) || a.ValueKind != JsonValueKind.Array) throw new InvalidDataException(bad($"has no '{key}' list"));
        var list = new List<long>();
        foreach (var x in a.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt64(out var n)) throw new InvalidDataException(bad($"has a '{key}' entry that is not an integer"));
            list.Add(n);
        }
        return list.ToArray();
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
