//! The command line: every command, its flags (in French, English spellings kept as
//! aliases) and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const HELP_TEMPLATE: &str =
    "{about-with-newline}\nUtilisation : {usage}\n\n{all-args}{after-help}";

/// Copil : pilotage du Service public de l'insertion et de l'emploi (SPIE).
///
/// Ingère les extractions de parcours des territoires, calcule les indicateurs du SPIE et sert
/// le tableau de bord du comité de pilotage, des territoires et des évaluateurs.
#[derive(Debug, Parser)]
#[command(
    name = "copil",
    version,
    help_template = HELP_TEMPLATE,
    disable_help_subcommand = true,
    subcommand_help_heading = "Commandes",
    next_help_heading = "Options générales"
)]
pub struct Cli {
    /// Fichier de configuration (défaut : ./copil.toml s'il existe).
    #[arg(long, global = true, value_name = "FICHIER")]
    pub config: Option<PathBuf>,
    /// Dossier des données (clé data_dir).
    #[arg(
        long = "dossier-donnees",
        alias = "data-dir",
        global = true,
        value_name = "DOSSIER"
    )]
    pub data_dir: Option<PathBuf>,
    /// Remplace une clé de configuration, par exemple --definir secrecy.threshold=5.
    #[arg(
        long = "definir",
        alias = "set",
        global = true,
        value_name = "CLÉ=VALEUR"
    )]
    pub set: Vec<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// The demo's default share of the national population (about 37,000 people): small enough
/// for `cargo run -- demo` to serve about 25 s after the build.
pub const DEMO_SCALE: f64 = 0.02;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Écrit un copil.toml commenté et une nouvelle clé de pseudonymisation (jamais écrasée).
    #[command(help_template = HELP_TEMPLATE)]
    Init {
        /// Dossier où écrire copil.toml (défaut : le dossier courant).
        dir: Option<PathBuf>,
    },
    /// Affiche la configuration effective et l'origine de chaque valeur (secrets masqués).
    #[command(help_template = HELP_TEMPLATE)]
    Config,
    /// Génère des dépôts synthétiques (un par territoire) et leurs manifestes.
    #[command(name = "generer", alias = "generate", help_template = HELP_TEMPLATE)]
    Generate(GenerateArgs),
    /// Traite la boîte de dépôt une fois : validation, pseudonymisation, entrepôt.
    ///
    /// Affiche un rapport par dépôt ; code de sortie non nul si un dépôt est refusé.
    #[command(name = "integrer", alias = "ingest", help_template = HELP_TEMPLATE)]
    Ingest {
        /// Réservé aux tests de reprise : s'arrête à ce point et attend d'être tué.
        #[arg(long, hide = true, value_name = "POINT")]
        point_arret: Option<String>,
        /// Intègre un dépôt mis en attente d'examen (dans <data_dir>/en_attente/<territoire>/),
        /// sans les garde-fous (lignes écartées, personnes perdues, date future) ; le contrat
        /// et les limites s'appliquent toujours.
        #[arg(long, value_name = "FICHIER")]
        liberer: Option<PathBuf>,
    },
    /// Recalcule les indicateurs depuis l'entrepôt (table indicateurs) : seuls les territoires
    /// dont les données ont changé sont recalculés, les autres repris de leurs comptes gardés.
    #[command(name = "calculer", alias = "refresh", help_template = HELP_TEMPLATE)]
    Refresh {
        /// Recalcule tous les territoires depuis leurs événements, sans reprendre de compte.
        #[arg(long, alias = "full")]
        complet: bool,
    },
    /// Vérifie ou répare les journaux Delta des tables de l'entrepôt.
    #[command(help_template = HELP_TEMPLATE)]
    Entrepot {
        #[command(subcommand)]
        action: EntrepotAction,
    },
    /// Le catalogue des indicateurs ; « afficher ID » affiche les résultats d'un indicateur.
    #[command(name = "indicateurs", alias = "indicators", help_template = HELP_TEMPLATE)]
    Indicators {
        /// Écrit la documentation du catalogue en Markdown (docs/indicateurs.md).
        #[arg(long)]
        markdown: bool,
        #[command(subcommand)]
        action: Option<IndicatorsAction>,
    },
    /// Gère les comptes du tableau de bord (mots de passe hachés en argon2id).
    #[command(name = "comptes", alias = "users", help_template = HELP_TEMPLATE)]
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Gère les projets d'évaluation : un compte « evaluateur » n'exporte des microdonnées que
    /// pour un projet qui le nomme, sur ses territoires et pendant sa période.
    #[command(help_template = HELP_TEMPLATE)]
    Projets {
        #[command(subcommand)]
        action: ProjetsAction,
    },
    /// Lance le service : le tableau de bord (clé server.bind) et l'ingestion planifiée
    /// (clé schedule.ingest).
    #[command(name = "servir", alias = "serve", help_template = HELP_TEMPLATE)]
    Serve,
    /// Démonstration : génère des dépôts d'exemple, les ingère, calcule les indicateurs et
    /// sert le tableau de bord.
    #[command(help_template = HELP_TEMPLATE)]
    Demo {
        /// S'arrête après le calcul des indicateurs, sans servir le tableau de bord.
        #[arg(long)]
        sans_serveur: bool,
        /// Échelle des données générées (à 1, environ 1,84 million de personnes).
        #[arg(long, default_value_t = DEMO_SCALE, value_name = "X")]
        echelle: f64,
    },
}

#[derive(Debug, Subcommand)]
pub enum EntrepotAction {
    /// Vérifie chaque table : journal complet et lisible, aucune table revenue en arrière.
    /// Code de sortie non nul si une table est endommagée.
    #[command(help_template = HELP_TEMPLATE)]
    Verifier,
    /// Ramène chaque table endommagée à sa dernière version saine (les versions endommagées
    /// sont mises de côté, jamais effacées), remet dans la boîte de dépôt les dépôts dont les
    /// données sont perdues, puis les intègre et recalcule les indicateurs.
    #[command(help_template = HELP_TEMPLATE)]
    Reparer,
}

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Crée un compte. Le mot de passe est lu sur l'entrée standard avec --mot-de-passe-stdin ;
    /// sinon il est tiré au hasard et affiché une seule fois.
    #[command(name = "ajouter", alias = "add", help_template = HELP_TEMPLATE)]
    Add {
        /// Identifiant de connexion.
        login: String,
        /// Rôle : national, territoire, evaluateur ou admin.
        #[arg(long)]
        role: String,
        /// Territoire d'un compte « territoire » (identifiant du registre).
        #[arg(long = "territoire", alias = "territory")]
        territory: Option<String>,
        /// Lit le mot de passe sur la première ligne de l'entrée standard.
        #[arg(long = "mot-de-passe-stdin", alias = "password-stdin")]
        password_stdin: bool,
        /// Adresse électronique par laquelle ProConnect retrouve le compte.
        #[arg(long = "adresse", alias = "email")]
        email: Option<String>,
    },
    /// Liste les comptes (jamais les mots de passe ni leurs empreintes).
    #[command(name = "liste", alias = "list", help_template = HELP_TEMPLATE)]
    List,
    /// Désactive un compte : il ne peut plus se connecter.
    #[command(name = "desactiver", alias = "disable", help_template = HELP_TEMPLATE)]
    Disable {
        /// Identifiant du compte.
        login: String,
    },
    /// Crée un jeton d'API pour un compte (affiché une seule fois ; seule son empreinte est
    /// gardée).
    #[command(name = "jeton", alias = "token", help_template = HELP_TEMPLATE)]
    Token {
        /// Identifiant du compte.
        login: String,
        /// Nom du jeton (par exemple script-mensuel).
        #[arg(long = "nom", alias = "name")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjetsAction {
    /// Déclare un projet d'évaluation. Son nom est la clé de ses pseudonymes : il ne sert
    /// qu'une fois.
    #[command(help_template = HELP_TEMPLATE, visible_alias = "add")]
    Ajouter {
        /// Nom du projet (a-z, 0-9, « - », « _ » ; 64 caractères au plus).
        nom: String,
        /// Objet du projet (à quoi servent les exports).
        #[arg(long)]
        objet: String,
        /// Comptes « evaluateur » du projet, séparés par des virgules.
        #[arg(long, value_delimiter = ',', required = true, value_name = "LOGIN,…")]
        evaluateurs: Vec<String>,
        /// Territoires couverts (identifiants du registre), séparés par des virgules.
        #[arg(long, value_delimiter = ',', required = true, value_name = "ID,…")]
        territoires: Vec<String>,
        /// Premier jour des exports.
        #[arg(long, value_name = "AAAA-MM-JJ")]
        debut: String,
        /// Dernier jour des exports.
        #[arg(long, value_name = "AAAA-MM-JJ")]
        fin: String,
    },
    /// Liste les projets d'évaluation.
    #[command(help_template = HELP_TEMPLATE, visible_alias = "list")]
    Liste,
    /// Clôt un projet : plus aucun export sous ce nom.
    #[command(help_template = HELP_TEMPLATE, visible_alias = "close")]
    Clore {
        /// Nom du projet.
        nom: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum IndicatorsAction {
    /// Affiche les résultats publiés d'un indicateur (secret statistique appliqué).
    #[command(name = "afficher", alias = "show", help_template = HELP_TEMPLATE)]
    Show {
        /// Identifiant de l'indicateur (voir « copil indicateurs »).
        id: String,
        /// Ne garder, parmi les territoires, que celui-ci (les vagues et la France restent).
        #[arg(long = "territoire", alias = "territory", value_name = "ID")]
        territory: Option<String>,
        /// Ne garder que ce mois.
        #[arg(long = "mois", alias = "month", value_name = "AAAA-MM")]
        month: Option<String>,
    },
    /// Attaque la table publiée comme un extérieur : pour chaque case secrète, les valeurs
    /// compatibles avec tout ce qui est publié ; code de sortie non nul si une case secrète
    /// se retrouve à moins du seuil près.
    #[command(help_template = HELP_TEMPLATE)]
    Audit,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Options de génération")]
pub struct GenerateArgs {
    /// Boîte de dépôt à remplir, un sous-dossier par territoire (défaut : clé inbox).
    #[arg(long = "sortie", alias = "out", value_name = "DOSSIER")]
    pub out: Option<PathBuf>,
    /// Dossier des manifestes (défaut : « manifests » à côté de --sortie).
    #[arg(long = "manifestes", alias = "manifests", value_name = "DOSSIER")]
    pub manifests: Option<PathBuf>,
    /// Graine : mêmes graine et options, mêmes octets.
    #[arg(long = "graine", alias = "seed", default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// Échelle : à 1, le registre compte environ 1,84 million de personnes.
    #[arg(long, default_value_t = 0.005, value_name = "X")]
    pub echelle: f64,
    /// Premier mois d'entrée au RSA.
    #[arg(
        long = "depuis",
        alias = "from",
        default_value = "2019-01",
        value_name = "AAAA-MM"
    )]
    pub from: String,
    /// Dernier mois d'entrée (défaut : le mois courant).
    #[arg(long = "jusqua", alias = "to", value_name = "AAAA-MM")]
    pub to: Option<String>,
    /// Territoires à générer (identifiants séparés par des virgules ; défaut : tout le registre).
    #[arg(
        long = "territoires",
        alias = "territories",
        value_delimiter = ',',
        value_name = "ID,…"
    )]
    pub territories: Option<Vec<String>>,
    /// Date d'extraction de référence (défaut : fin du mois --jusqua, au plus aujourd'hui) ;
    /// chaque territoire extrait quelques jours, parfois quelques semaines, avant.
    #[arg(long, value_name = "AAAA-MM-JJ")]
    pub date_extraction: Option<String>,
    /// Part de lignes défectueuses (identifiant manquant, code inconnu, date impossible, date
    /// future, événement avant la naissance).
    #[arg(long, default_value_t = 0.005, value_name = "TAUX")]
    pub taux_defauts: f64,
    /// Part de lignes répétées à l'identique.
    #[arg(long, default_value_t = 0.003, value_name = "TAUX")]
    pub taux_doublons: f64,
    /// Impose une variante à tous les dépôts : utf8-virgule, windows1252-point-virgule,
    /// utf8-bom-point-virgule, xlsx, utf8-tabulation-gz.
    #[arg(long, value_name = "VARIANTE")]
    pub format: Option<String>,
    /// Dépôts sans défauts (ni lignes cassées, ni doublons, ni retours à la ligne).
    #[arg(long)]
    pub propre: bool,
    /// Nombre de fils de génération (défaut : les cœurs de la machine).
    #[arg(long, value_name = "N")]
    pub fils: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
