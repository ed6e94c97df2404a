"""BrainSynth: generative model of labelled brain anatomy + MR appearance (pipeline and teacher)."""

__version__ = "0.4.4"
