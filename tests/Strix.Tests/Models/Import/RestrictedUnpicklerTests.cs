using System.Text;
using Strix.Models.Import.Pickle;

namespace Strix.Tests.Models.Import;

public class RestrictedUnpicklerTests
{
    // pickle.dumps({'a': [1, -2, 300, 70000, 2**40, -2**70], 'b': (1.5, 'ü', None, True, False), 'c': b'\x00\xff',
    //               'd': {7}, 'e': OrderedDict([('x', 1)]), 'f': ('m', 'm')}, protocol=P)   (CPython 3.11)
    const string Protocol0 = "286470300a56610a70310a286c70320a49310a61492d320a61493330300a614937303030300a614c313039393531313632373737364c0a614c2d313138303539313632303731373431313330333432344c0a617356620a70330a2846312e350a56fc0a70340a4e4930310a4930300a7470350a7356630a70360a635f636f646563730a656e636f64650a70370a28565c7530303030ff0a70380a566c6174696e310a70390a747031300a527031310a7356640a7031320a635f5f6275696c74696e5f5f0a7365740a7031330a28286c7031340a49370a61747031350a527031360a7356650a7031370a63636f6c6c656374696f6e730a4f726465726564446963740a7031380a2874527031390a56780a7032300a49310a737356660a7032310a28566d0a7032320a6732320a747032330a732e";
    const string Protocol2 = "80027d71002858010000006171015d7102284b014afeffffff4d2c014a701101008a060000000000018a090000000000000000c065580100000062710328473ff80000000000005802000000c3bc71044e88897471055801000000637106635f636f646563730a656e636f64650a7107580300000000c3bf710858060000006c6174696e31710986710a52710b580100000064710c635f5f6275696c74696e5f5f0a7365740a710d5d710e4b076185710f527110580100000065711163636f6c6c656374696f6e730a4f726465726564446963740a71122952711358010000007871144b0173580100000066711558010000006d71166816867117752e";
    const string Protocol4 = "80049592000000000000007d94288c0161945d94284b014afeffffff4d2c014a701101008a060000000000018a090000000000000000c0658c01629428473ff80000000000008c02c3bc944e888974948c016394430200ff948c0164948f94284b07908c0165948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c0178944b01738c0166948c016d9468118694752e";

    [Theory]
    [InlineData(Protocol0)]
    [InlineData(Protocol2)]
    [InlineData(Protocol4)]
    public void ReadsPythonValuesOfEveryProtocolTorchUses(string hex)
    {
        var root = Assert.IsType<PickleDict>(RestrictedUnpickler.Load(Convert.FromHexString(hex)));
        Assert.Equal(new object[] { "a", "b", "c", "d", "e", "f" }, root.Keys.ToArray());
        var a = Assert.IsType<List<object?>>(root["a"]);
        Assert.Equal(new object[] { 1L, -2L, 300L, 70000L, 1L << 40 }, a.Take(5).ToArray());
        Assert.Equal(-System.Numerics.BigInteger.Pow(2, 70), a[5]);
        var b = Assert.IsType<PickleTuple>(root["b"]);
        Assert.Equal(new object?[] { 1.5, "ü", null, true, false }, b.ToArray());
        Assert.Equal(new byte[] { 0x00, 0xff }, root["c"]);
        Assert.Equal(new object[] { 7L }, Assert.IsType<PickleSet>(root["d"]).ToArray());
        var e = Assert.IsType<PickleDict>(root["e"]);
        Assert.Equal(1L, e["x"]);
        var f = Assert.IsType<PickleTuple>(root["f"]);
        Assert.Same(f[0], f[1]); // memoised: the same object twice
    }

    [Fact]
    public void RefusesUnknownOpcodeNamingIt()
    {
        var ex = Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.Load(new byte[] { 0x80, 0x02, 0xff, (byte)'.' }, "bad.pkl"));
        Assert.Contains("unknown pickle opcode 0xff at offset 2", ex.Message);
        Assert.StartsWith("bad.pkl:", ex.Message);
    }

    [Fact]
    public void RefusesTruncatedAndUnterminatedPickles()
    {
        // BINUNICODE announcing 100 bytes but holding 2.
        var truncated = new byte[] { 0x80, 0x02, (byte)'X', 100, 0, 0, 0, (byte)'h', (byte)'i' };
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.Load(truncated)).Message);
        var noStop = new byte[] { 0x80, 0x02, (byte)'N' };
        Assert.Contains("STOP", Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.Load(noStop)).Message);
        var ext = new byte[] { 0x80, 0x02, 0x82, 1, (byte)'.' };
        Assert.Contains("EXT1", Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.Load(ext)).Message);
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("subprocess", "Popen")]
    [InlineData("builtins", "exec")]
    [InlineData("builtins", "eval")]
    public void NeverCallsGlobalsAPickleReferences(string module, string name)
    {
        var marker = Path.Combine(TestPaths.NewTempDir(), "pwned");
        // What pickle.dumps writes for an object whose __reduce__ is (module.name, ('touch <marker>',)):
        // PROTO 2, GLOBAL, BINUNICODE, TUPLE1, REDUCE, then BUILD with a state dict, STOP.
        var bytes = new List<byte> { 0x80, 0x02, (byte)'c' };
        bytes.AddRange(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        var cmd = Encoding.UTF8.GetBytes($"touch {marker}");
        bytes.Add((byte)'X');
        bytes.AddRange(BitConverter.GetBytes(cmd.Length));
        bytes.AddRange(cmd);
        bytes.AddRange(new byte[] { 0x85, (byte)'R', (byte)'}', (byte)'b', (byte)'.' });

        var result = RestrictedUnpickler.Load(bytes.ToArray());

        var obj = Assert.IsType<PickleObject>(result);
        Assert.Equal(new PickleGlobal(module, name), obj.Type);
        Assert.False(obj.ViaNewObj);
        Assert.Equal($"touch {marker}", obj.Args[0]);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void ModulesBecomeObjectRecordsWithTheirState()
    {
        // NEWOBJ of a class (how torch.save pickles an nn.Module), then BUILD with its __dict__.
        var bytes = new List<byte> { 0x80, 0x02, (byte)'c' };
        bytes.AddRange(Encoding.ASCII.GetBytes("ultralytics.nn.modules.conv\nConv\n"));
        bytes.AddRange(new byte[] { (byte)')', 0x81, (byte)'}', (byte)'X', 2, 0, 0, 0, (byte)'n', (byte)'c', (byte)'K', 3, (byte)'s', (byte)'b', (byte)'.' });
        var obj = Assert.IsType<PickleObject>(RestrictedUnpickler.Load(bytes.ToArray()));
        Assert.True(obj.ViaNewObj);
        Assert.Equal("ultralytics.nn.modules.conv.Conv", obj.Type.FullName);
        Assert.Equal(3L, obj.Attribute("nc"));
    }

    [Fact]
    public void PersistentIdsNeedALoader()
    {
        // BINUNICODE 'k', BINPERSID, STOP
        var bytes = new byte[] { 0x80, 0x02, (byte)'X', 1, 0, 0, 0, (byte)'k', (byte)'Q', (byte)'.' };
        Assert.Contains("persistent", Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.Load(bytes)).Message);
        Assert.Equal("loaded k", RestrictedUnpickler.Load(bytes, "p", pid => $"loaded {pid}"));
    }
}

public class PythonValueTests
{
    [Fact]
    public void FormatsUnpickledValuesForTheCli()
    {
        // {'epochs': 3, 'amp': True, 'cache': None, 'lr0': 0.01, 'imgsz': [640, 480], 'save_dir': PosixPath('runs/detect/train')}
        var d = new PickleDict
        {
            ["epochs"] = 3L, ["amp"] = true, ["cache"] = null, ["lr0"] = 0.01,
            ["imgsz"] = new List<object?> { 640L, 480L },
            ["save_dir"] = new PickleObject(new PickleGlobal("pathlib", "PosixPath"), new PickleTuple(new object?[] { "runs", "detect", "train" }), false),
        };
        var f = d.ToDictionary(kv => (string)kv.Key, kv => Strix.Models.Import.PythonValue.Format(kv.Value));
        Assert.Equal("3", f["epochs"]);
        Assert.Equal("true", f["amp"]);
        Assert.Equal("None", f["cache"]);
        Assert.Equal("0.01", f["lr0"]);
        Assert.Equal("[640, 480]", f["imgsz"]);
        Assert.Equal("runs/detect/train", f["save_dir"]);
    }

    /// <summary>Work stays linear in the pickle's size: MARK does not copy the stack (it did, so 200,000 marks over 200,000 items took minutes).</summary>
    [Fact]
    public void Many_marks_over_a_deep_stack_take_linear_time()
    {
        const int n = 200_000;
        var bytes = new List<byte> { 0x80, 2 };
        bytes.AddRange(Enumerable.Repeat((byte)'N', n));                              // n × NONE
        for (int i = 0; i < n; i++) { bytes.Add((byte)'('); bytes.Add((byte)'1'); } // n × (MARK, POP_MARK)
        bytes.Add((byte)'.');
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.Load(bytes.ToArray(), "crafted.pkl"));
        Assert.Contains($"leaves {n} values on the stack", e.Message);
        Assert.True(sw.Elapsed.TotalSeconds < 5, $"took {sw.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>A module tree nested deeper than any network is refused with a message, not a stack overflow (which ends the process).</summary>
    [Fact]
    public void A_module_tree_nested_200000_deep_is_refused()
    {
        var type = new PickleGlobal("torch.nn.modules.container", "Sequential");
        PickleObject Module(PickleObject? child)
        {
            var modules = new PickleDict();
            if (child is not null) modules["0"] = child;
            var state = new PickleDict { };
            state["_modules"] = modules;
            return new PickleObject(type, PickleTuple.Empty, viaNewObj: true) { State = state };
        }
        PickleObject? m = null;
        for (int i = 0; i < 200_000; i++) m = Module(m);
        var e = Assert.Throws<InvalidDataException>(() => Strix.Models.Import.UltralyticsImporter.ModuleStateDict(m!));
        Assert.Contains("nested more than", e.Message);
    }
}

public class TorchCheckpointArchiveTests
{
    /// <summary>A torch.save-style zip whose directory lies about a record's size is refused naming the file, before allocating the claim.</summary>
    [Theory]
    [InlineData(0x7FFF_FFF0u)] // claims ~2 GB for a 2-byte record
    [InlineData(1u)]           // claims less than the record holds
    public void A_zip_directory_that_lies_about_sizes_is_refused(uint claimed)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "lying.pt");
        using (var fs = File.Create(path))
        using (var zip = new System.IO.Compression.ZipArchive(fs, System.IO.Compression.ZipArchiveMode.Create))
        {
            var entry = zip.CreateEntry("archive/data.pkl", System.IO.Compression.CompressionLevel.NoCompression);
            using var w = entry.Open();
            w.Write(new byte[] { (byte)'}', (byte)'.' }); // pickle: an empty dict
        }
        var bytes = File.ReadAllBytes(path);
        // The central directory record (PK\x01\x02): uncompressed size at offset 24.
        int cd = IndexOf(bytes, new byte[] { 0x50, 0x4B, 0x01, 0x02 });
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(cd + 24), claimed);
        File.WriteAllBytes(path, bytes);
        var e = Assert.ThrowsAny<InvalidDataException>(() => Strix.Models.Import.Pickle.TorchCheckpoint.Open(path).Dispose());
        Assert.Contains(path, e.Message);
    }

    /// <summary>Tensor views a crafted pickle may describe over a real 4-element storage: each refused naming the file, none reaches libtorch.</summary>
    [Theory]
    [InlineData(new long[] { -4 }, new long[] { 1 }, 0L, "impossible")]           // negative size
    [InlineData(new long[] { 2, 2 }, new long[] { 1 }, 0L, "impossible")]           // sizes and strides disagree
    [InlineData(new long[] { 5 }, new long[] { 1 }, 0L, "runs past")]               // more elements than stored
    [InlineData(new long[] { 2 }, new long[] { 1 }, 3L, "runs past")]               // offset pushes it out
    [InlineData(new long[] { 2 }, new long[] { 1 }, -1L, "runs past")]              // negative offset
    [InlineData(new long[] { 2 }, new long[] { -1 }, 1L, "runs past")]              // negative stride
    [InlineData(new long[] { 3, 1L << 62 }, new long[] { 1L << 62, 4 }, 0L, "runs past")] // overflowing extent
    public void Impossible_tensor_views_are_refused(long[] size, long[] stride, long offset, string fault)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "views.pt");
        using (var fs = File.Create(path))
        using (var zip = new System.IO.Compression.ZipArchive(fs, System.IO.Compression.ZipArchiveMode.Create))
        {
            using (var w = zip.CreateEntry("archive/data.pkl", System.IO.Compression.CompressionLevel.NoCompression).Open())
                w.Write(new byte[] { (byte)'}', (byte)'.' });
            using (var w = zip.CreateEntry("archive/data/0", System.IO.Compression.CompressionLevel.NoCompression).Open())
                w.Write(new byte[16]); // four float32
        }
        using var ck = Strix.Models.Import.Pickle.TorchCheckpoint.Open(path);
        var storage = new TorchStorageRef("0", TorchSharp.torch.ScalarType.Float32, "cpu", 4);
        using (var ok = ck.ToTensor(new TorchTensorRef(storage, 1, new long[] { 3 }, new long[] { 1 }, false)))
            Assert.Equal(new long[] { 3 }, ok.shape); // the storage itself is fine
        var e = Assert.Throws<InvalidDataException>(() => ck.ToTensor(new TorchTensorRef(storage, offset, size, stride, false)));
        Assert.Contains(path, e.Message);
        Assert.Contains(fault, e.Message);
    }

    static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
            if (hay.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("pattern not found");
    }
}

public class StateDictSelectionTests
{
    /// <summary><c>torch.save(model.state_dict())</c>: an OrderedDict whose <c>_metadata</c> attribute unpickles beside the tensors.</summary>
    [Fact]
    public void A_saved_state_dict_with_its_metadata_is_a_state_dict()
    {
        var storage = new TorchStorageRef("0", TorchSharp.torch.ScalarType.Float32, "cpu", 4);
        var sd = new PickleDict();
        sd["model.0.conv.weight"] = new TorchTensorRef(storage, 0, new long[] { 4 }, new long[] { 1 }, false);
        sd["_metadata"] = new PickleDict();
        var (module, tensors, which) = Strix.Models.Import.UltralyticsImporter.SelectModel(sd, "sd.pt");
        Assert.Null(module);
        Assert.Equal("root state dict", which);
        Assert.Equal(new[] { "model.0.conv.weight" }, tensors!.Keys);

        var wrapped = new PickleDict();
        wrapped["model"] = sd;
        Assert.Equal("model", Strix.Models.Import.UltralyticsImporter.SelectModel(wrapped, "ck.pt").Which);
        var empty = new PickleDict();
        empty["model"] = null;
        Assert.Contains("'ema' and 'model' are both empty", Assert.Throws<InvalidDataException>(() => Strix.Models.Import.UltralyticsImporter.SelectModel(empty, "ck.pt")).Message);
    }
}
