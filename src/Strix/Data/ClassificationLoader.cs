using Strix.Distributed;
using Strix.Runtime;

namespace Strix.Data;

/// <summary>How a <see cref="ClassificationLoader"/> batches and augments.</summary>
public sealed record ClassificationLoaderOptions
{
    /// <summary>Side of the square crops the model sees.</summary>
    public int ImgSz { get; init; } = 224;
    public int BatchSize { get; init; } = 16;
    /// <summary>Threads decoding and augmenting a batch (the next batch is prepared while the current one trains).</summary>
    public int Workers { get; init; } = 2;
    public int Seed { get; init; }
    /// <summary>Training transforms (random resized crop, flips, RandAugment or HSV, erasing); otherwise the validation centre crop.</summary>
    public bool Augment { get; init; }
    public bool Shuffle { get; init; }
    public AugmentationOptions Hyp { get; init; } = new();
    /// <summary><c>erasing</c>: probability of random erasing (training only).</summary>
    public double Erasing { get; init; } = ClassifyTransforms.DefaultErasing;
    /// <summary><c>auto_augment</c> (training only): RandAugment, Ultralytics' default, in place of the HSV jitter.</summary>
    public AutoAugmentPolicy AutoAugment { get; init; } = AutoAugmentPolicy.RandAugment;
    /// <summary><c>fraction</c>: the share of the split used, taken per class (the first images of each class folder), so every class stays.</summary>
    public double Fraction { get; init; } = 1.0;
    /// <summary>Data-parallel rank and world size: a shuffled epoch is dealt out by <see cref="Shards"/>, an unshuffled one by whole batches.</summary>
    public int Rank { get; init; }
    public int WorldSize { get; init; } = 1;

    public static ClassificationLoaderOptions ForTraining(int imgsz, int batch, int workers, int seed, AugmentationOptions hyp, double erasing,
        AutoAugmentPolicy autoAugment = AutoAugmentPolicy.RandAugment) =>
        new() { ImgSz = imgsz, BatchSize = batch, Workers = workers, Seed = seed, Augment = true, Shuffle = true, Hyp = hyp, Erasing = erasing, AutoAugment = autoAugment };

    public static ClassificationLoaderOptions ForValidation(int imgsz, int batch, int workers) =>
        new() { ImgSz = imgsz, BatchSize = batch, Workers = workers, Augment = false, Shuffle = false };
}

/// <summary>
/// Batches of a <see cref="ClassificationDataset"/> in the <see cref="Batch"/> layout every task shares: uint8
/// images [B, 3, S, S], and per image one label, <c>Cls</c>, whose box is the whole image (so train_batch pictures
/// show each image's class). Sample i of epoch e is augmented from <c>StrixRandom(seed, e, i)</c> and the order is a
/// seeded permutation per epoch, so a resumed run sees the same batches. A file that fails to decode mid-run
/// (changed since the scan) is named in the exception.
/// </summary>
public sealed class ClassificationLoader
{
    readonly ClassifiedImage[] _images;

    public ClassificationLoader(ClassificationDataset dataset, ClassificationLoaderOptions options)
    {
        if (options.ImgSz < 1) throw new ArgumentOutOfRangeException(nameof(options), $"imgsz={options.ImgSz} must be positive");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), $"batch={options.BatchSize} must be positive");
        if (!(options.Fraction > 0 && options.Fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"fraction={options.Fraction} must be in (0, 1]");
        Dataset = dataset;
        Options = options;
        var all = dataset.Images;
        _images = options.Fraction >= 1 ? all.ToArray()
            : all.GroupBy(im => im.Class).OrderBy(g => g.Key)
                .SelectMany(g => g.Take(Math.Max(1, (int)Math.Round(g.Count() * options.Fraction)))).ToArray();
    }

    public ClassificationDataset Dataset { get; }
    public ClassificationLoaderOptions Options { get; }
    /// <summary>Images per epoch before sharding (after <c>fraction</c>).</summary>
    public int ImageCount => _images.Length;
    /// <summary>True when built for one rank's share (<see cref="ClassificationLoaderOptions.WorldSize"/> &gt; 1).</summary>
    public bool IsRankSharded => Options.WorldSize > 1;

    /// <summary>Batches per epoch (of this rank, when sharded); the last one may be partial, as in Ultralytics.</summary>
    public int Count
    {
        get
        {
            int n = _images.Length, bs = Options.BatchSize, w = Options.WorldSize;
            if (w > 1 && !Options.Shuffle) return Shards.Count((n + bs - 1) / bs, Options.Rank, w, pad: false);
            int samples = w > 1 ? Shards.Count(n, Options.Rank, w, pad: true) : n;
            return (samples + bs - 1) / bs;
        }
    }

    /// <summary>This rank's image indices for <paramref name="epoch"/>, in visiting order.</summary>
    public int[] EpochOrder(int epoch)
    {
        int n = _images.Length, w = Options.WorldSize, r = Options.Rank, bs = Options.BatchSize;
        var order = Options.Shuffle ? new StrixRandom(Options.Seed, epoch, -1, RandomStreams.EpochOrder).Permutation(n) : Enumerable.Range(0, n).ToArray();
        if (w <= 1) return order;
        if (Options.Shuffle) return Shards.Positions(n, r, w, pad: true).Select(p => order[p % n]).ToArray();
        return Shards.Positions((n + bs - 1) / bs, r, w, pad: false).SelectMany(k => order.Skip(k * bs).Take(bs)).ToArray();
    }

    /// <summary>The batches of <paramref name="epoch"/> from <paramref name="start"/> on; the next batch is prepared in the background.</summary>
    public IEnumerable<Batch> GetEpoch(int epoch, int start = 0)
    {
        var order = EpochOrder(epoch);
        int bs = Options.BatchSize, count = (order.Length + bs - 1) / bs;
        Task<Batch>? next = start < count ? Task.Run(() => Make(order, start, epoch)) : null;
        try
        {
            for (int b = start; b < count; b++)
            {
                var current = next!.GetAwaiter().GetResult();
                int following = b + 1; // a copy: the lambda must not see the loop variable move on
                next = following < count ? Task.Run(() => Make(order, following, epoch)) : null;
                yield return current;
            }
        }
        finally
        {
            // An abandoned epoch (early stop, an exception) still releases the batch prepared ahead.
            if (next is not null) try { next.GetAwaiter().GetResult().Dispose(); } catch { /* its error has no one to go to */ }
        }
    }

    /// <summary>One prepared image: the model's crop of image <paramref name="index"/> in <paramref name="epoch"/>.</summary>
    public Sample Load(int index, int epoch)
    {
        var item = _images[index];
        var img = ImageIO.Load(item.File);
        int s = Options.ImgSz;
        var crop = Options.Augment
            ? ClassifyTransforms.Train(img, s, Options.Hyp, Options.Erasing, new StrixRandom(Options.Seed, epoch, index, RandomStreams.Augment), Options.AutoAugment)
            : ClassifyTransforms.CenterCrop(img, s);
        return new Sample(crop, new float[] { item.Class }, new[] { 0.5f, 0.5f, 1f, 1f }, item.File,
            (img.Height, img.Width), (crop.Height, crop.Width), ((double)s / Math.Min(img.Width, img.Height), (double)s / Math.Min(img.Width, img.Height), 0, 0));
    }

    Batch Make(int[] order, int b, int epoch)
    {
        int bs = Options.BatchSize, from = b * bs, n = Math.Min(bs, order.Length - from);
        var samples = new Sample[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.Workers) },
            i => samples[i] = Load(order[from + i], epoch));
        return Batch.Collate(samples);
    }
}
