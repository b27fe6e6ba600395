using Strix.Data;

namespace Strix.Tests.Data;

public class LabelCacheTests
{
    static (string Root, IReadOnlyList<string> Images) Dataset()
    {
        var root = TestPaths.NewTempDir();
        DataFixtures.Make(root, new DataFixtures.Img[]
        {
            new("a.png", 40, 30, "0 0.5 0.5 0.2 0.2\n1 0.2 0.2 0.1 0.1\n"), new("b.png", 30, 40, "2 0.5 0.5 0.4 0.4\n"), new("c.png", 20, 20, null),
        });
        return (root, DatasetConfig.Load(Path.Combine(root, "data.yaml")).Train);
    }

    static void AssertSame(ImageLabels[] a, ImageLabels[] b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].ImageFile, b[i].ImageFile);
            Assert.Equal(a[i].Status, b[i].Status);
            Assert.Equal((a[i].Width, a[i].Height), (b[i].Width, b[i].Height));
            Assert.Equal(a[i].Cls, b[i].Cls);
            Assert.Equal(a[i].Boxes, b[i].Boxes);
            Assert.Equal(a[i].LabelMissing, b[i].LabelMissing);
        }
    }

    [SkippableFact]
    public void WrittenBesideLabelsAndReadBack()
    {
        var (root, images) = Dataset();
        var first = LabelCache.LoadOrCheck(images, 4);
        Assert.Equal(LabelCache.Source.Scanned, first.Source);
        Assert.Equal(Path.Combine(root, "labels", "train.strix.cache"), first.CacheFile);
        Assert.True(File.Exists(first.CacheFile));

        Assert.Equal(LabelCache.Source.LoadedFromMemory, LabelCache.LoadOrCheck(images, 4).Source);
        var (fromFile, why) = LabelCache.TryRead(first.CacheFile, LabelCache.Key(images, 4), images);
        Assert.True(fromFile is not null, why);
        AssertSame(first.Labels, fromFile!);
    }

    [SkippableFact]
    public void StaleCacheIsRebuilt()
    {
        var (root, images) = Dataset();
        var first = LabelCache.LoadOrCheck(images, 4);
        var oldKey = LabelCache.Key(images, 4);
        var label = Path.Combine(root, "labels", "train", "b.txt");
        File.WriteAllText(label, "2 0.5 0.5 0.4 0.4\n3 0.1 0.1 0.1 0.1\n");
        File.SetLastWriteTimeUtc(label, DateTime.UtcNow.AddMinutes(1));
        Assert.NotEqual(oldKey, LabelCache.Key(images, 4));
        var (stale, why) = LabelCache.TryRead(first.CacheFile, LabelCache.Key(images, 4), images);
        Assert.Null(stale);
        Assert.Contains("changed", why);

        var second = LabelCache.LoadOrCheck(images, 4);
        Assert.Equal(LabelCache.Source.Scanned, second.Source);
        Assert.Equal(2, second.Labels[1].Count);
        // A different class count is a different key too (class range checks depend on it).
        Assert.NotEqual(LabelCache.Key(images, 4), LabelCache.Key(images, 5));
    }

    [SkippableFact]
    public void DamagedCacheIsRebuiltWithAWarning()
    {
        var (_, images) = Dataset();
        var first = LabelCache.LoadOrCheck(images, 4);
        var bytes = File.ReadAllBytes(first.CacheFile);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(first.CacheFile, bytes);
        var (bad, why) = LabelCache.TryRead(first.CacheFile, LabelCache.Key(images, 4), images);
        Assert.Null(bad);
        Assert.Contains("damaged", why);

        // Force a file read by asking with a fresh process-memory state for just this key.
        LabelCache.ClearMemory();
        var warnings = new List<string>();
        var again = LabelCache.LoadOrCheck(images, 4, warnings.Add);
        Assert.Equal(LabelCache.Source.Scanned, again.Source);
        Assert.Contains(warnings, w => w.Contains("damaged") && w.Contains("rebuilding"));
        AssertSame(first.Labels, again.Labels);
        Assert.NotNull(LabelCache.TryRead(first.CacheFile, LabelCache.Key(images, 4), images).Labels); // rewritten

        File.WriteAllText(first.CacheFile, "garbage");
        Assert.Contains("not a Strix label cache", LabelCache.TryRead(first.CacheFile, LabelCache.Key(images, 4), images).Reason);
    }

    [SkippableFact]
    public void ReadOnlyFolderFallsBackToMemory()
    {
        Requires.NotWindows("read-only folders are Unix permissions");
        var (root, images) = Dataset();
        var labels = Path.Combine(root, "labels");
        var mode = File.GetUnixFileMode(labels);
        File.SetUnixFileMode(labels, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            var warnings = new List<string>();
            var r = LabelCache.LoadOrCheck(images, 4, warnings.Add);
            Assert.Equal(LabelCache.Source.Scanned, r.Source);
            Assert.False(File.Exists(r.CacheFile));
            Assert.Contains(warnings, w => w.Contains("not writeable") && w.Contains(labels));
            Assert.Equal(LabelCache.Source.LoadedFromMemory, LabelCache.LoadOrCheck(images, 4).Source);
        }
        finally { File.SetUnixFileMode(labels, mode); }
    }
}
