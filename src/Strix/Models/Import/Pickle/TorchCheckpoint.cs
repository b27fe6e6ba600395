using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Models.Import.Pickle;

/// <summary>
/// A file written by <c>torch.save</c> (the zip format, torch ≥ 1.6): <c>&lt;name&gt;/data.pkl</c> is a pickle whose
/// tensors point, through persistent ids <c>('storage', torch.HalfStorage, key, location, numel)</c>, at raw
/// little-endian records <c>&lt;name&gt;/data/&lt;key&gt;</c>. The pickle is read with the
/// <see cref="RestrictedUnpickler"/>, so opening a checkpoint never runs code from it.
/// </summary>
public sealed class TorchCheckpoint : IDisposable
{
    readonly ZipArchive _zip;
    readonly string _prefix;

    /// <summary>The unpickled root object (for Ultralytics, a <see cref="PickleDict"/> with model/ema/train_args …).</summary>
    public object? Root { get; }
    public string Path { get; }

    TorchCheckpoint(string path, ZipArchive zip, string prefix)
    {
        Path = path; _zip = zip; _prefix = prefix;
        var pkl = zip.GetEntry(prefix + "data.pkl")!;
        var bytes = ReadEntry(pkl);
        if (zip.GetEntry(prefix + "byteorder") is { } bo)
        {
            var order = System.Text.Encoding.ASCII.GetString(ReadEntry(bo)).Trim();
            if (order != "little") throw new InvalidDataException($"{path}: tensors are stored {order}-endian; only little-endian checkpoints are supported");
        }
        Root = RestrictedUnpickler.Load(bytes, $"{path}:{pkl.FullName}", PersistentLoad);
    }

    /// <summary>Opens and unpickles a torch checkpoint; anything else raises <see cref="InvalidDataException"/> naming the file.</summary>
    public static TorchCheckpoint Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found", path);
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException)
        {
            var head = new byte[2];
            using (var fs = File.OpenRead(path)) fs.ReadExactly(head.AsSpan(0, Math.Min(2, (int)fs.Length)));
            var why = head[0] == 0x80 ? "it is a legacy (pre-1.6, non-zip) torch file; re-save it with torch.save in torch ≥ 1.6"
                                      : "it is not a zip archive written by torch.save";
            throw new InvalidDataException($"{path}: cannot read as a PyTorch checkpoint: {why}");
        }
        try
        {
            var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') <= 1)
                ?? throw new InvalidDataException($"{path}: zip archive has no data.pkl, so it was not written by torch.save");
            var prefix = pkl.FullName[..^"data.pkl".Length];
            return new TorchCheckpoint(path, zip, prefix);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    object? PersistentLoad(object? pid)
    {
        // ('storage', storage_type, key, location, numel)
        if (pid is not PickleTuple { Count: >= 5 } t || t[0] is not "storage")
            throw new InvalidDataException($"{Path}: unsupported persistent id {pid} (expected a ('storage', …) tuple)");
        if (t[1] is not PickleGlobal type || DataConstructors.StorageDType(type) is not { } dtype)
            throw new InvalidDataException($"{Path}: unsupported storage type {RestrictedUnpickler.Describe(t[1])}");
        if (t[2] is not string key || t[4] is not long numel)
            throw new InvalidDataException($"{Path}: malformed storage id {pid}");
        return new TorchStorageRef(key, dtype, t[3] as string ?? "cpu", numel);
    }

    /// <summary>Reads a tensor's data from the archive into a new contiguous CPU tensor of its stored dtype.</summary>
    public Tensor ToTensor(TorchTensorRef r)
    {
        var bytes = StorageBytes(r.Storage);
        int elem = ElementSize(r.DType);
        long numel = bytes.LongLength / elem;
        if (r.Size.Any(s => s < 0) || r.Size.Length != r.Stride.Length)
            throw new InvalidDataException($"{Path}: tensor view [{string.Join(", ", r.Size)}] (strides [{string.Join(", ", r.Stride)}]) of storage '{r.Storage.Key}' is impossible");
        long needed;
        try { needed = r.Size.Length == 0 ? checked(r.Offset + 1) : checked(r.Offset + 1 + r.Size.Zip(r.Stride, (s, st) => checked((s - 1) * st)).Sum()); }
        catch (OverflowException) { needed = long.MaxValue; }
        if (r.Size.Any(s => s == 0)) needed = 0;
        if (needed > numel || r.Offset < 0 || r.Stride.Any(s => s < 0))
            throw new InvalidDataException($"{Path}: tensor view [{string.Join(", ", r.Size)}] at offset {r.Offset} runs past its storage '{r.Storage.Key}' ({numel} elements)");
        using var scope = NewDisposeScope();
        var flat = empty(new[] { numel }, r.DType);
        if (bytes.Length > 0) flat.bytes = bytes;
        var view = flat.as_strided(r.Size, r.Stride, r.Offset);
        return view.contiguous().clone().MoveToOuterDisposeScope();
    }

    byte[] StorageBytes(TorchStorageRef s)
    {
        var entry = _zip.GetEntry($"{_prefix}data/{s.Key}")
            ?? throw new InvalidDataException($"{Path}: storage record '{_prefix}data/{s.Key}' is missing");
        var bytes = ReadEntry(entry);
        long expected = s.NumElements * ElementSize(s.DType);
        if (bytes.LongLength != expected)
            throw new InvalidDataException($"{Path}: storage '{s.Key}' has {bytes.LongLength} bytes, {s.NumElements} × {s.DType} needs {expected}");
        return bytes;
    }

    /// <summary>
    /// An entry's bytes. The size the zip directory claims is checked against what the entry really holds, and memory
    /// grows with the bytes actually read, so a lying directory can neither make us allocate what it merely claims nor
    /// pass a short or long record off as the right one.
    /// </summary>
    byte[] ReadEntry(ZipArchiveEntry e)
    {
        if (e.Length < 0 || e.Length > Array.MaxLength)
            throw new InvalidDataException($"{Path}: zip entry '{e.FullName}' claims {e.Length} bytes (records larger than 2 GB are not supported)");
        try { return ReadExactly(e); }
        catch (Exception x) when (x is InvalidDataException or IOException && !x.Message.StartsWith(Path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{Path}: zip entry '{e.FullName}' is damaged ({x.Message})", x);
        }
    }

    byte[] ReadExactly(ZipArchiveEntry e)
    {
        using var s = e.Open();
        using var ms = new MemoryStream((int)Math.Min(e.Length, 1 << 26));
        var chunk = new byte[1 << 16];
        int n;
        while ((n = s.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (ms.Length + n > e.Length)
                throw new InvalidDataException($"{Path}: zip entry '{e.FullName}' holds more than the {e.Length} bytes its directory claims");
            ms.Write(chunk, 0, n);
        }
        if (ms.Length != e.Length)
            throw new InvalidDataException($"{Path}: zip entry '{e.FullName}' holds {ms.Length} bytes, its directory claims {e.Length}");
        return ms.Length == ms.Capacity ? ms.GetBuffer() : ms.ToArray();
    }

    internal static int ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    public void Dispose() => _zip.Dispose();
}
