using Strix.IO;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Models;

public class WeightsFileTests
{
    static ModelMetadata MetadataFor(DetectionModel m) => ModelMetadata.For(m, new[] { "bolt", "nut", "washer" }, imgsz: 64) with
    {
        TrainArgs = new Dictionary<string, string> { ["epochs"] = "3", ["lr0"] = "0.01", ["data"] = "bolts.yaml" },
        Extra = new Dictionary<string, string> { ["note"] = "round trip" },
    };

    [Fact]
    public void RoundTripGivesIdenticalOutputsAndMetadataAndLeavesNoTempFile()
    {
        using var m = TinyModels.WithStatistics();
        var meta = MetadataFor(m);
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "best.safetensors");
        WeightsFile.Save(m, path, meta);

        var (loaded, readMeta) = WeightsFile.Load(path);
        using (loaded)
        {
            Assert.Equal(meta, readMeta);
            Assert.Equal(TinyModels.Tiny, loaded.Scale);
            Assert.Equal(3, loaded.NumClasses);
            Assert.False(loaded.IsFused);
            using var x = rand(1, 3, 64, 96);
            using var a = m.Predict(x);
            using var b = loaded.Predict(x);
            Assert.Equal(0f, TinyModels.MaxAbsDiff(a, b));
            // Every tensor, buffers (running stats, num_batches_tracked) included, survives bit for bit.
            var sa = m.state_dict();
            var sb = loaded.state_dict();
            Assert.Equal(sa.Keys, sb.Keys);
            foreach (var (k, t) in sa) { using var same = t.eq(sb[k]).all(); Assert.True(same.item<bool>(), k); }
        }
        Assert.Equal(new[] { "best.safetensors" }, Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void FileUsesUltralyticsTensorNamesAndJsonMetadata()
    {
        using var m = TinyModels.WithStatistics();
        var path = Path.Combine(TestPaths.NewTempDir(), "w.safetensors");
        WeightsFile.Save(m, path, MetadataFor(m));
        using var contents = Strix.IO.Safetensors.Load(path);
        var names = contents.Tensors.Select(kv => kv.Key).ToHashSet();
        Assert.Contains("model.0.conv.weight", names);
        Assert.Contains("model.2.m.0.cv1.bn.running_var", names);
        Assert.Contains("model.22.dfl.conv.weight", names);
        Assert.Equal("[\"bolt\",\"nut\",\"washer\"]", contents.Metadata["names"]);
        Assert.Equal("t", contents.Metadata["scale"]);
        Assert.Equal("0.03125", contents.Metadata["width"]);
        Assert.Equal("3", contents.Metadata["nc"]);
        Assert.Equal("64", contents.Metadata["imgsz"]);
        Assert.Equal("[8,16,32]", contents.Metadata["stride"]);
        Assert.Equal("detect", contents.Metadata["task"]);
        Assert.Equal("round trip", contents.Metadata["note"]);
        Assert.Equal(ModelMetadata.FormatName, contents.Metadata["format"]);
    }

    [Fact]
    public void FusedModelRoundTripsAsFused()
    {
        using var m = TinyModels.WithStatistics();
        using var x = rand(1, 3, 64, 64);
        using var before = m.Predict(x);
        m.Fuse();
        var path = Path.Combine(TestPaths.NewTempDir(), "fused.safetensors");
        WeightsFile.Save(m, path, MetadataFor(m));
        Assert.True(WeightsFile.ReadMetadata(path).Fused);
        var (loaded, meta) = WeightsFile.Load(path);
        using (loaded)
        {
            Assert.True(meta.Fused);
            Assert.True(loaded.IsFused);
            using var after = loaded.Predict(x);
            Assert.True(TinyModels.MaxAbsDiff(before, after) <= 1e-4);
        }
    }

    [Fact]
    public void MismatchedOrMissingTensorsAreNamedInTheError()
    {
        using var m = TinyModels.WithStatistics();
        var meta = MetadataFor(m).ToDictionary();
        var dir = TestPaths.NewTempDir();

        // One tensor with the wrong shape.
        var tensors = m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        using var wrong = zeros(5, 3, 3, 3);
        tensors["model.0.conv.weight"] = wrong;
        var badShape = Path.Combine(dir, "shape.safetensors");
        Strix.IO.Safetensors.Save(badShape, tensors, meta);
        var e1 = Assert.Throws<InvalidDataException>(() => WeightsFile.Load(badShape));
        Assert.Contains("model.0.conv.weight", e1.Message);
        Assert.Contains("[5, 3, 3, 3]", e1.Message);
        Assert.Contains("[8, 3, 3, 3]", e1.Message);
        Assert.Contains(badShape, e1.Message);

        // One tensor missing.
        tensors = m.state_dict().Where(kv => kv.Key != "model.22.cv3.1.2.bias").ToDictionary(kv => kv.Key, kv => kv.Value);
        var missing = Path.Combine(dir, "missing.safetensors");
        Strix.IO.Safetensors.Save(missing, tensors, meta);
        var e2 = Assert.Throws<InvalidDataException>(() => WeightsFile.Load(missing));
        Assert.Contains("missing 1 tensor(s): model.22.cv3.1.2.bias", e2.Message);

        // Metadata that does not describe a Strix model.
        var plain = Path.Combine(dir, "plain.safetensors");
        Strix.IO.Safetensors.Save(plain, m.state_dict(), new Dictionary<string, string> { ["foo"] = "bar" });
        var e3 = Assert.Throws<InvalidDataException>(() => WeightsFile.Load(plain));
        Assert.Contains("'names' is missing", e3.Message);
    }

    [Fact]
    public void SaveRefusesNamesThatDoNotMatchTheClassCount()
    {
        using var m = TinyModels.WithStatistics();
        var meta = MetadataFor(m) with { Names = new[] { "a", "b" } };
        Assert.Throws<ArgumentException>(() => WeightsFile.Save(m, Path.Combine(TestPaths.NewTempDir(), "x.safetensors"), meta));
    }

    /// <summary>Bytes this thread has read from files so far (Linux's per-thread I/O counter).</summary>
    static long ThreadBytesRead() =>
        long.Parse(File.ReadAllLines("/proc/thread-self/io").First(l => l.StartsWith("rchar:", StringComparison.Ordinal))[6..].Trim());

    /// <summary>
    /// A 1 GiB (sparse) file whose header claims a tensor the model does not have is refused from its header:
    /// its data is never read, so it costs neither the gigabyte of reading nor the memory.
    /// </summary>
    [SkippableFact]
    public void A_file_claiming_the_wrong_tensors_is_refused_before_its_data_is_read()
    {
        Requires.Linux("reads the per-thread I/O counter in /proc/thread-self/io");
        using var m = TinyModels.WithStatistics();
        var meta = System.Text.Json.JsonSerializer.Serialize(MetadataFor(m).ToDictionary());
        const long gib = 1L << 30;
        var header = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"__metadata__\": {meta}, \"model.0.conv.weight\": {{\"dtype\": \"F32\", \"shape\": [{gib / 4}], \"data_offsets\": [0, {gib}]}}}}");
        var path = Path.Combine(TestPaths.NewTempDir(), "sparse.safetensors");
        using (var fs = File.Create(path))
        {
            Span<byte> len = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            fs.Write(len);
            fs.Write(header);
            fs.SetLength(8 + header.Length + gib); // sparse: a gigabyte of zeros that takes no disk
        }
        long before = ThreadBytesRead();
        var e = Assert.Throws<InvalidDataException>(() => WeightsFile.Load(path));
        long read = ThreadBytesRead() - before;
        Assert.Contains(path, e.Message);
        Assert.Contains("'model.0.conv.weight' has shape [268435456], the model needs [8, 3, 3, 3]", e.Message);
        Assert.True(read < 1 << 20, $"{read} bytes read before the refusal");
    }
}
