//! The words of the holder's pages in the three languages of the confirmation page's URLs
//! (`/frontend/en/…`, `/frontend/…` Lithuanian, `/frontend/ru/…`).

/// A page language, as its URL prefix names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Lt,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Lt, Lang::Ru];

    /// The path prefix of the language's pages (Lithuanian has none).
    pub fn prefix(self) -> &'static str {
        match self {
            Lang::En => "/frontend/en",
            Lang::Lt => "/frontend",
            Lang::Ru => "/frontend/ru",
        }
    }

    /// The `lang` attribute of the page.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Lt => "lt",
            Lang::Ru => "ru",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Lt => &LT,
            Lang::Ru => &RU,
        }
    }
}

/// Every fixed text of the login and confirmation pages.
#[derive(Debug)]
pub struct Texts {
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub log_in: &'static str,
    pub log_out: &'static str,
    pub wrong_credentials: &'static str,
    pub too_many_logins: &'static str,
    pub confirm_title: &'static str,
    pub project: &'static str,
    pub description: &'static str,
    pub amount: &'static str,
    pub total: &'static str,
    pub payments: &'static str,
    pub pay_from: &'static str,
    pub allowance: &'static str,
    pub allowance_max: &'static str,
    pub allowance_limit: &'static str,
    pub allowance_accept: &'static str,
    pub allowance_included: &'static str,
    pub accept: &'static str,
    pub reject: &'static str,
    pub accepted: &'static str,
    pub waiting_funds: &'static str,
    pub rejected: &'static str,
    pub other_status: &'static str,
    pub continue_: &'static str,
    pub error_title: &'static str,
    pub seconds: &'static str,
    pub oauth_title: &'static str,
    pub oauth_asks: &'static str,
    pub oauth_back_to: &'static str,
    pub oauth_other_account: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,
}

pub static EN: Texts = Texts {
    login_title: "Log in",
    login_intro: "Log in to your wallet to continue.",
    email: "Email",
    password: "Password",
    log_in: "Log in",
    log_out: "Log out",
    wrong_credentials: "The email or password is wrong.",
    too_many_logins: "Too many failed logins. Try again in a few minutes.",
    confirm_title: "Confirm payment",
    project: "Recipient",
    description: "Description",
    amount: "Amount",
    total: "Total",
    payments: "Payments",
    pay_from: "Paid from wallet",
    allowance: "Allowance",
    allowance_max: "At most per payment",
    allowance_limit: "At most",
    allowance_accept: "Also accept the allowance",
    allowance_included: "Accepting also gives this allowance.",
    accept: "Accept",
    reject: "Reject",
    accepted: "Payment accepted: the money is reserved.",
    waiting_funds: "Payment accepted, waiting for funds: it continues when enough money is in your wallet.",
    rejected: "Payment rejected.",
    other_status: "This payment can no longer be confirmed. Its status:",
    continue_: "Continue",
    error_title: "Something went wrong",
    seconds: "seconds",
    oauth_title: "Allow access",
    oauth_asks: "asks to use your wallet with these permissions:",
    oauth_back_to: "Then you go back to",
    oauth_other_account: "This request is for another account: sign in with the address the site gave.",
    allow: "Allow",
    deny: "Deny",
};

pub static LT: Texts = Texts {
    login_title: "Prisijungimas",
    login_intro: "Prisijunkite prie savo piniginės, kad tęstumėte.",
    email: "El. paštas",
    password: "Slaptažodis",
    log_in: "Prisijungti",
    log_out: "Atsijungti",
    wrong_credentials: "Neteisingas el. paštas arba slaptažodis.",
    too_many_logins: "Per daug nesėkmingų bandymų. Bandykite po kelių minučių.",
    confirm_title: "Mokėjimo patvirtinimas",
    project: "Gavėjas",
    description: "Aprašymas",
    amount: "Suma",
    total: "Iš viso",
    payments: "Mokėjimai",
    pay_from: "Mokama iš piniginės",
    allowance: "Leidimas",
    allowance_max: "Daugiausia už mokėjimą",
    allowance_limit: "Daugiausia",
    allowance_accept: "Taip pat suteikti leidimą",
    allowance_included: "Patvirtinus suteikiamas ir šis leidimas.",
    accept: "Patvirtinti",
    reject: "Atmesti",
    accepted: "Mokėjimas patvirtintas: pinigai rezervuoti.",
    waiting_funds: "Mokėjimas patvirtintas, laukiama lėšų: jis bus tęsiamas, kai piniginėje bus pakankamai pinigų.",
    rejected: "Mokėjimas atmestas.",
    other_status: "Šio mokėjimo patvirtinti nebegalima. Būsena:",
    continue_: "Tęsti",
    error_title: "Įvyko klaida",
    seconds: "sekundžių",
    oauth_title: "Leisti prieigą",
    oauth_asks: "prašo leidimo naudotis jūsų pinigine su šiomis teisėmis:",
    oauth_back_to: "Po to grįšite į",
    oauth_other_account: "Šis prašymas skirtas kitai paskyrai: prisijunkite svetainės nurodytu adresu.",
    allow: "Leisti",
    deny: "Neleisti",
};

pub static RU: Texts = Texts {
    login_title: "Вход",
    login_intro: "Войдите в свой кошелёк, чтобы продолжить.",
    email: "Эл. почта",
    password: "Пароль",
    log_in: "Войти",
    log_out: "Выйти",
    wrong_credentials: "Неверный адрес эл. почты или пароль.",
    too_many_logins: "Слишком много неудачных попыток. Повторите через несколько минут.",
    confirm_title: "Подтверждение платежа",
    project: "Получатель",
    description: "Описание",
    amount: "Сумма",
    total: "Итого",
    payments: "Платежи",
    pay_from: "Оплата из кошелька",
    allowance: "Разрешение",
    allowance_max: "Не более за платёж",
    allowance_limit: "Не более",
    allowance_accept: "Также дать разрешение",
    allowance_included: "Подтверждая, вы также даёте это разрешение.",
    accept: "Подтвердить",
    reject: "Отклонить",
    accepted: "Платёж подтверждён: деньги зарезервированы.",
    waiting_funds: "Платёж подтверждён, ожидаются средства: он продолжится, когда в кошельке будет достаточно денег.",
    rejected: "Платёж отклонён.",
    other_status: "Этот платёж больше нельзя подтвердить. Его статус:",
    continue_: "Продолжить",
    error_title: "Произошла ошибка",
    seconds: "секунд",
    oauth_title: "Разрешить доступ",
    oauth_asks: "просит доступ к вашему кошельку с этими правами:",
    oauth_back_to: "Затем вы вернётесь на",
    oauth_other_account: "Этот запрос для другой учётной записи: войдите с адресом, который указал сайт.",
    allow: "Разрешить",
    deny: "Запретить",
};
