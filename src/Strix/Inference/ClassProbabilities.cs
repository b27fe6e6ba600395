namespace Strix.Inference;

/// <summary>
/// A classifier's answer for one image (Ultralytics' <c>results.probs</c>): the probability of every class, and the
/// five most likely (all classes when there are fewer), best first.
/// </summary>
public sealed class ClassProbabilities
{
    public ClassProbabilities(float[] data)
    {
        if (data.Length == 0) throw new ArgumentException("no class probabilities");
        Data = data;
        Top5 = Enumerable.Range(0, data.Length).OrderByDescending(i => data[i]).ThenBy(i => i).Take(5).ToArray();
    }

    /// <summary>Probability per class id (they sum to 1).</summary>
    public float[] Data { get; }
    /// <summary>The most likely class.</summary>
    public int Top1 => Top5[0];
    /// <summary>The five most likely classes, best first.</summary>
    public int[] Top5 { get; }
    public float Top1Conf => Data[Top1];
    public float[] Top5Conf => Top5.Select(i => Data[i]).ToArray();
}
