"""Everything that trains a generator, together (as stylegan2-ada's ``training/``): the loop (``loop``), its data
(``data``), losses (``losses``), the VGG-19 perceptual network (``perceptual``), multi-process helpers
(``distributed``) and the self-describing checkpoints every stage loads safely (``checkpoint``)."""
