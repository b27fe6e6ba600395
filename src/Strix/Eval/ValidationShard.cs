namespace Strix.Eval;

/// <summary>
/// One rank's share of a data-parallel validation pass, as bytes: the images' detection statistics,
/// the number of images in each batch, and sums (losses) to add up. <see cref="Merge"/> rebuilds the
/// single-process pass from every rank's share. Shards must be batch-strided — rank r validated global
/// batches r, r+W, r+2W, … (how the data loader and the DDP strategy split validation) — so global
/// batch g is rank g mod W's batch g div W and the images come back in single-process order: the
/// metrics are then exactly those of one process.
/// </summary>
public static class ValidationShard
{
    /// <summary>
    /// What <see cref="Merge"/> returns: images in single-process order (of the first statistics, and of each set
    /// in <see cref="Sets"/>: boxes, then masks for segmentation), batch sizes, summed values.
    /// </summary>
    public sealed record Merged(List<DetectionMetrics.ImageStats> Images, List<int> BatchSizes, double[] Sums)
    {
        public IReadOnlyList<List<DetectionMetrics.ImageStats>> Sets { get; init; } = new[] { Images };
    }

    public static byte[] Export(DetectionMetrics metrics, IReadOnlyList<int> batchSizes, IReadOnlyList<double> sums) =>
        Export(new[] { metrics }, batchSizes, sums);

    /// <summary>A shard with several statistics over the same images (box and mask matches).</summary>
    public static byte[] Export(IReadOnlyList<DetectionMetrics> sets, IReadOnlyList<int> batchSizes, IReadOnlyList<double> sums)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(batchSizes.Count);
            foreach (var b in batchSizes) w.Write(b);
            w.Write(sums.Count);
            foreach (var v in sums) w.Write(v);
            w.Write(sets.Count);
            foreach (var metrics in sets) metrics.WriteImages(w);
        }
        return ms.ToArray();
    }

    public static Merged Merge(IReadOnlyList<byte[]> shards)
    {
        int world = shards.Count;
        List<List<DetectionMetrics.ImageStats>>[][]? batches = null; // [set][rank] → batches
        double[]? sums = null;
        int totalBatches = 0;
        for (int r = 0; r < world; r++)
        {
            using var reader = new BinaryReader(new MemoryStream(shards[r]));
            var sizes = new int[reader.ReadInt32()];
            for (int i = 0; i < sizes.Length; i++) sizes[i] = reader.ReadInt32();
            var s = new double[reader.ReadInt32()];
            for (int i = 0; i < s.Length; i++) s[i] = reader.ReadDouble();
            if (s.Length > 0)
            {
                sums ??= new double[s.Length];
                if (sums.Length != s.Length) throw new InvalidDataException($"rank {r}'s validation shard carries {s.Length} sums, another rank {sums.Length}");
                for (int i = 0; i < s.Length; i++) sums[i] += s[i];
            }
            int setCount = reader.ReadInt32();
            batches ??= Enumerable.Range(0, setCount).Select(_ => new List<List<DetectionMetrics.ImageStats>>[world]).ToArray();
            if (batches.Length != setCount) throw new InvalidDataException($"rank {r}'s validation shard carries {setCount} sets of statistics, another rank {batches.Length}");
            for (int set = 0; set < setCount; set++)
            {
                var images = DetectionMetrics.ReadImages(reader);
                if (images.Count != sizes.Sum()) throw new InvalidDataException($"rank {r}'s validation shard has {images.Count} images in batches of {sizes.Sum()}");
                var list = batches[set][r] = new();
                int at = 0;
                foreach (var size in sizes) { list.Add(images.GetRange(at, size)); at += size; }
            }
            totalBatches += sizes.Length;
        }
        batches ??= Array.Empty<List<List<DetectionMetrics.ImageStats>>[]>();
        var ordered = batches.Select(_ => new List<DetectionMetrics.ImageStats>()).ToList();
        var batchSizes = new List<int>();
        for (int g = 0; g < totalBatches; g++)
        {
            int r = g % world, k = g / world;
            for (int set = 0; set < batches.Length; set++)
            {
                if (k >= batches[set][r].Count) throw new InvalidDataException($"validation shards are not batch-strided: global batch {g} (rank {r}, batch {k}) is missing");
                ordered[set].AddRange(batches[set][r][k]);
                if (set == 0) batchSizes.Add(batches[set][r][k].Count);
            }
        }
        if (ordered.Count == 0) ordered.Add(new());
        return new Merged(ordered[0], batchSizes, sums ?? Array.Empty<double>()) { Sets = ordered };
    }
}
