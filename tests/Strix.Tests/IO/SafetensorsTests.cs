using Strix.IO;
using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace Strix.Tests.IO;

public class SafetensorsTests
{
    [Fact]
    public void RoundTripsTensorsOfSeveralDtypesAndMetadata()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "w.safetensors");
        using var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var b = tensor(new long[] { -1, 5, 1L << 40 });
        using var c = tensor(new float[] { 0.5f, -2f }).to(ScalarType.Float16);
        Strix.IO.Safetensors.Save(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b, ["c"] = c },
            new Dictionary<string, string> { ["names"] = "{\"0\": \"cat\"}" });
        using var read = Strix.IO.Safetensors.Load(path);
        var d = read.ToDictionary();
        Assert.Equal(new long[] { 2, 3 }, d["a"].shape);
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, d["a"].data<float>().ToArray());
        Assert.Equal(new long[] { -1, 5, 1L << 40 }, d["b"].data<long>().ToArray());
        Assert.Equal(ScalarType.Float16, d["c"].dtype);
        Assert.Equal(new float[] { 0.5f, -2f }, d["c"].to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal("{\"0\": \"cat\"}", read.Metadata["names"]);
        Assert.Equal(new[] { "w.safetensors" }, Directory.GetFiles(dir).Select(Path.GetFileName)); // no temp file left
    }

    [Fact]
    public void FileLayoutFollowsTheSpec()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "x.safetensors");
        using var t = tensor(new float[] { 1f, 2f });
        Strix.IO.Safetensors.Save(path, new Dictionary<string, Tensor> { ["t"] = t });
        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, n);
        Assert.Contains("\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", header);
        Assert.Equal(1f, BitConverter.ToSingle(bytes, 8 + n));
        Assert.Equal(2f, BitConverter.ToSingle(bytes, 12 + n));
    }

    [Fact]
    public void TruncatedFileGivesClearError()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "bad.safetensors");
        using var t = ones(100);
        Strix.IO.Safetensors.Save(path, new Dictionary<string, Tensor> { ["t"] = t });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^40]);
        var e = Assert.Throws<InvalidDataException>(() => Strix.IO.Safetensors.Load(path));
        Assert.Contains("bad.safetensors", e.Message);
    }

    /// <summary>A safetensors file: 8-byte header length, the JSON header, then <paramref name="dataBytes"/> zero bytes.</summary>
    static string Crafted(string header, int dataBytes = 16)
    {
        var json = System.Text.Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        var path = Path.Combine(TestPaths.NewTempDir(), "crafted.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Headers that are valid JSON of the wrong shape, impossible shapes and overlapping ranges: one clear error each, before any allocation.</summary>
    [Theory]
    [InlineData("[1, 2, 3]", "header is not a JSON object")]
    [InlineData("{\"w\": 5}", "is not a JSON object")]
    [InlineData("{\"w\": {\"dtype\": 7, \"shape\": [2], \"data_offsets\": [0, 8]}}", "has no dtype string")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": \"2\", \"data_offsets\": [0, 8]}}", "has no 'shape' list")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", "negative size")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 8]}}", "more bytes than can exist")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", "not an integer")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", "overlap")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [100], \"data_offsets\": [0, 400]}}", "outside the 16-byte data section")]
    [InlineData("{\"__metadata__\": {\"names\": 3}}", "is not a string")]
    [InlineData("{\"__metadata__\": [1]}", "__metadata__ is not a JSON object")]
    public void Malformed_headers_are_refused_naming_the_file_and_the_fault(string header, string fault)
    {
        var path = Crafted(header);
        var e = Assert.Throws<InvalidDataException>(() => Strix.IO.Safetensors.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(fault, e.Message);
        if (header.Contains("__metadata__")) Assert.Throws<InvalidDataException>(() => Strix.IO.Safetensors.ReadMetadata(path));
    }

    /// <summary>Counts the bytes read through it.</summary>
    sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count) { int n = inner.Read(buffer, offset, count); BytesRead += n; return n; }
        public override int Read(Span<byte> buffer) { int n = inner.Read(buffer); BytesRead += n; return n; }
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The inspector sees the header before any tensor byte is read; when it refuses, the data is never touched.</summary>
    [Fact]
    public void Inspector_refuses_a_file_before_its_data_is_read()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "big.safetensors");
        using (var t = zeros(1 << 20)) // 4 MiB of data
            Strix.IO.Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = t }, new Dictionary<string, string> { ["k"] = "v" });
        using var fs = new CountingStream(File.OpenRead(path));
        Strix.IO.Safetensors.TensorInfo[]? seen = null;
        var e = Assert.Throws<InvalidDataException>(() => Strix.IO.Safetensors.Load(fs, path, (meta, tensors) =>
        {
            Assert.Equal("v", meta["k"]);
            seen = tensors.ToArray();
            throw new InvalidDataException("not the tensors I expect");
        }));
        Assert.Equal("not the tensors I expect", e.Message);
        Assert.Equal("w", Assert.Single(seen!).Name);
        Assert.Equal(new long[] { 1 << 20 }, seen![0].Shape);
        Assert.Equal(ScalarType.Float32, seen[0].DType);
        Assert.True(fs.BytesRead < 4096, $"{fs.BytesRead} bytes read before the refusal");
    }

    /// <summary>Tensors are read straight into their own memory: loading a 16 MiB file allocates no 16 MiB managed staging copy.</summary>
    [Fact]
    public void Loading_reads_into_tensor_memory_without_a_managed_copy()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "w.safetensors");
        using (var t = arange(4 << 20, dtype: ScalarType.Float32))
            Strix.IO.Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = t });
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var read = Strix.IO.Safetensors.Load(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 2 << 20, $"{allocated} managed bytes allocated to load 16 MiB");
        var w = read.ToDictionary()["w"];
        Assert.Equal(4 << 20, w.numel());
        Assert.Equal((4 << 20) - 1, w[-1].item<float>());
        Assert.Equal(12345f, w[12345].item<float>());
    }
}
